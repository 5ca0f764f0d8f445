import { runSpecs } from "../helpers/specs";

runSpecs(`${__dirname}/ingestion`);
