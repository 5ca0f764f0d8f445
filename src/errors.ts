import { ErrorCode } from "./error-codes";

/**
 * One error vocabulary for HTTP and GraphQL: each error has a stable `code` (the contract's
 * `{"error":{"code","message"}}` and GraphQL's `extensions.code`) and the HTTP status it maps to.
 * The codes are src/error-codes.ts's.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends AppError {
  constructor(message: string, code: ErrorCode = ErrorCode.BAD_REQUEST) {
    super(400, code, message);
  }
}

export class Unauthenticated extends AppError {
  constructor(message = "missing or invalid credentials", code: ErrorCode = ErrorCode.UNAUTHENTICATED) {
    super(401, code, message);
  }
}

/** Authenticated, but the operation needs another role (an admin token). */
export class Forbidden extends AppError {
  constructor(message: string) {
    super(403, ErrorCode.FORBIDDEN, message);
  }
}

export class NotFound extends AppError {
  constructor(message = "no such route") {
    super(404, ErrorCode.NOT_FOUND, message);
  }
}

export class MethodNotAllowed extends AppError {
  constructor(allowed: readonly string[]) {
    super(405, ErrorCode.METHOD_NOT_ALLOWED, `only ${allowed.join(", ")} is allowed here`, { Allow: allowed.join(", ") });
  }
}

export class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super(413, ErrorCode.PAYLOAD_TOO_LARGE, `request body is larger than ${limit} bytes`);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(message = "Content-Type must be application/json") {
    super(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, message);
  }
}

export class UnprocessableEntity extends AppError {
  constructor(message: string) {
    super(422, ErrorCode.UNPROCESSABLE_ENTITY, message);
  }
}

/** The database cannot be reached: callers (Smartcar included) should retry. */
export class ServiceUnavailable extends AppError {
  constructor(message = "database unavailable, retry later", retryAfterSeconds = 5) {
    super(503, ErrorCode.SERVICE_UNAVAILABLE, message, { "Retry-After": String(retryAfterSeconds) });
  }
}
