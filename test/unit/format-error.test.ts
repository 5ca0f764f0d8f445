import { GraphQLError } from "graphql";
import { ValidationError } from "class-validator";
import { ArgumentValidationError } from "type-graphql";
import { createFormatError } from "../../src/graphql/format-error";
import { createLogger } from "../../src/logger";

/** A class-validator error as validateOrReject builds it (target and value included, which must not leak). */
function invalid(property: string, spec: { constraints?: Record<string, string>; children?: ValidationError[]; value?: unknown }): ValidationError {
  return Object.assign(new ValidationError(), { target: { secret: "instance" }, property, value: spec.value ?? 0, constraints: spec.constraints, children: spec.children ?? [] });
}

describe("createFormatError: argument validation", () => {
  const format = createFormatError(createLogger("silent"));
  const formatted = (error: ArgumentValidationError) => {
    const located = new GraphQLError(error.message, { path: ["vehicles"], originalError: error, extensions: error.extensions });
    return format(located.toJSON(), located);
  };

  it("names a nested argument by its dotted path, one line, nothing of class-validator's", () => {
    const lt = invalid("lt", { constraints: { min: "lt must not be less than 0" }, value: -1 });
    const error = new ArgumentValidationError([invalid("where", { children: [invalid("signals", { children: [invalid("0", { children: [lt] })] })] })]);
    expect(formatted(error)).toEqual({
      message: "`where.signals[0].lt` must not be less than 0",
      path: ["vehicles"],
      extensions: { code: "BAD_USER_INPUT", argument: "where.signals[0].lt" },
    });
  });

  it("says the argument is invalid when no constraint has a message", () => {
    const error = new ArgumentValidationError([invalid("where", {})]);
    expect(formatted(error)).toMatchObject({ message: "`where` is invalid", extensions: { code: "BAD_USER_INPUT", argument: "where" } });
  });
});
