import { integerOption, parseOptions, SetupError, UsageError, type Command } from "./command";
import { mintApiToken } from "../auth/token";
import { jwtSecretFrom } from "./secrets";

const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 30 * 24 * 3600;

export const tokenCommand: Command = {
  name: "token",
  summary: "mint an API token (HS256, signed with JWT_SECRET) for development",
  help: `Usage: fleetgraph token --sub <userId> [--admin] [--ttl <seconds>]

Prints an API bearer token for /graphql and the WebSocket, signed with JWT_SECRET (the same value the
service runs with), alone on the last line of stdout. It always expires: the service refuses tokens
without "exp".

Options:
  --sub <userId>    Smartcar user id the token sees (its vehicles and issues only)
  --admin           role "admin": sees every vehicle (--sub then optional)
  --ttl <seconds>   lifetime, 1 to ${MAX_TTL_SECONDS} (30 days); default ${DEFAULT_TTL_SECONDS}
  -h, --help        this text

Environment:
  JWT_SECRET        required, at least 32 bytes

Example:
  JWT_SECRET=... npx fleetgraph token --sub 6f1c2a9e-... --ttl 600
  curl -H "Authorization: Bearer $(JWT_SECRET=... npx fleetgraph token --admin)" ...`,

  async run(argv, io) {
    const options = parseOptions(argv, {
      sub: { type: "string" },
      admin: { type: "boolean", default: false },
      ttl: { type: "string" },
    });
    if (options.help) {
      io.out(this.help);
      return 0;
    }
    const sub = options.sub?.trim();
    if (sub === "" || (sub === undefined && !options.admin)) throw new UsageError("--sub <userId> is required (or --admin)");
    const ttlSeconds = integerOption("ttl", options.ttl, DEFAULT_TTL_SECONDS, 1, MAX_TTL_SECONDS);
    const secret = jwtSecretFrom(io.env);
    if (secret === undefined) {
      throw new SetupError("JWT_SECRET is not set: the token must be signed with the JWT_SECRET the service runs with");
    }
    const now = new Date();
    const token = await mintApiToken(secret, { sub, admin: options.admin === true, ttlSeconds }, now);
    const expires = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
    io.err(`token for ${options.admin ? "admin" : "user"}${sub === undefined ? "" : ` ${sub}`}, expires ${expires}`);
    io.out(token);
    return 0;
  },
};
