import { ObjectType } from "type-graphql";
import { Connection } from "../graphql/connection";
import { SignalReading } from "./signal-reading.entity";

@ObjectType({ description: "A page of a signal's history (Relay connection)" })
export class SignalReadingConnection extends Connection(SignalReading, "SignalReading") {}
