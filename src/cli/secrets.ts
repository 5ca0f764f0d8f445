import { ConfigError, loadConfig } from "../config";
import { SetupError } from "./command";

type Env = Record<string, string | undefined>;

/**
 * One variable read with the service's own rules (src/config.ts), so the command and the service agree
 * on what a valid value is; the other variables are left out, so an unrelated one cannot stop a command.
 */
function readWithServiceRules<T>(env: Env, name: string, pick: (config: ReturnType<typeof loadConfig>) => T): T {
  try {
    return pick(loadConfig({ [name]: env[name] }));
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message.replace(/^Invalid configuration:\n\s*- /, ""));
    throw error;
  }
}

/** JWT_SECRET as the service uses it; undefined when unset. */
export function jwtSecretFrom(env: Env): string | undefined {
  return readWithServiceRules(env, "JWT_SECRET", (config) => config.jwtSecret);
}

/** The current SMARTCAR_MANAGEMENT_TOKEN (the first of a rotation list) as the service uses it; undefined when unset. */
export function managementTokenFrom(env: Env): string | undefined {
  return readWithServiceRules(env, "SMARTCAR_MANAGEMENT_TOKEN", (config) => config.managementTokens[0]);
}
