/** The node flags `npm start` and the bench give the services: a heap limit, overridable, checked. */
import { describe, expect, it } from "vitest";
import { serviceNodeFlags } from "../../scripts/lib/service-node-flags.js";

describe("the service node flags", () => {
  it("limit the old-space heap to 256 MB unless DX_SERVICE_HEAP_MB says otherwise", () => {
    expect(serviceNodeFlags({})).toEqual(["--max-old-space-size=256"]);
    expect(serviceNodeFlags({ DX_SERVICE_HEAP_MB: "1024" })).toEqual(["--max-old-space-size=1024"]);
  });

  it("refuse a limit that is not a whole number of at least 64 MB, naming the variable", () => {
    for (const bad of ["32", "12.5", "lots", " ", "0x100"]) expect(() => serviceNodeFlags({ DX_SERVICE_HEAP_MB: bad }), bad).toThrow(/DX_SERVICE_HEAP_MB/);
  });

  it("take an empty variable as unset, as the services do with theirs", () => {
    expect(serviceNodeFlags({ DX_SERVICE_HEAP_MB: "" })).toEqual(serviceNodeFlags({}));
  });
});
