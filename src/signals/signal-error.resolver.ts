import { FieldResolver, Resolver, Root } from "type-graphql";
import { SignalError } from "./signal-error.entity";

@Resolver(() => SignalError)
export class SignalErrorResolver {
  /**
   * The contract makes `errorCode` non-null, but Smartcar sends `code: null` for some error types
   * (PERMISSION). Then the type stands in for the code, which is what an app would switch on anyway;
   * `reportedErrorCode` keeps what Smartcar actually sent.
   */
  @FieldResolver(() => String, { description: "e.g. VEHICLE_NOT_CAPABLE; the errorType when Smartcar sent no code" })
  errorCode(@Root() error: SignalError): string {
    return error.errorCode ?? error.errorType;
  }

  @FieldResolver(() => String, { nullable: true, description: "The error code exactly as Smartcar sent it (null for some types)" })
  reportedErrorCode(@Root() error: SignalError): string | null {
    return error.errorCode;
  }
}
