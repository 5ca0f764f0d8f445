import { registerEnumType } from "type-graphql";

export enum IssueState {
  OPEN = "OPEN",
  RESOLVED = "RESOLVED",
}

registerEnumType(IssueState, { name: "IssueState", description: "Whether a vehicle issue is still open" });
