/**
 * The records service's environment, as read at start: an empty variable is
 * an unset one (as for the transfer service), and a number is decimal text
 * or refused, naming the variable — `z.coerce.number()` read a blank
 * RECORDS_PORT as 0 (any free port, where no transfer service would look).
 */
import { describe, expect, it } from "vitest";
import { loadRecordsConfig } from "../../services/records/config.js";

const base = { MONGODB_URI: "mongodb://127.0.0.1:1/" };

describe("the records service's configuration", () => {
  it("takes an empty variable as unset and decimal text as its number", () => {
    expect(loadRecordsConfig({ ...base, RECORDS_PORT: "" }).RECORDS_PORT).toBe(50051);
    expect(loadRecordsConfig({ ...base, RECORDS_PORT: " 50052 ", RECORDS_MAX_MESSAGE_BYTES: "1e6" })).toMatchObject({ RECORDS_PORT: 50052, RECORDS_MAX_MESSAGE_BYTES: 1_000_000 });
  });

  it("refuses blank text, hex and out-of-range ports at start, naming the variable", () => {
    for (const bad of [" ", "0x1F90", "65536", "80.5"]) {
      expect(() => loadRecordsConfig({ ...base, RECORDS_PORT: bad }), JSON.stringify(bad)).toThrow(/RECORDS_PORT: /);
    }
    expect(() => loadRecordsConfig({ ...base, MONGODB_URI: "" })).toThrow(/MONGODB_URI is required/);
  });
});
