/**
 * The domain's write modes as the wire's `WriteMode` enum, and back: the one
 * table both directions read, for everything that speaks the records wire.
 */
import type { WriteMode } from "../../domain/index.js";
import { WriteMode as WireWriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";

const WIRE_MODES: Record<WriteMode, WireWriteMode> = {
  insert: WireWriteMode.INSERT,
  upsert: WireWriteMode.UPSERT,
  merge: WireWriteMode.MERGE,
  "skip-existing": WireWriteMode.SKIP_EXISTING,
};

export function writeModeEnum(mode: WriteMode): WireWriteMode {
  return WIRE_MODES[mode];
}

/** Undefined for a value the wire does not define, and for UNSPECIFIED (callers choose what that means). */
export function writeModeOf(value: WireWriteMode): WriteMode | undefined {
  return (Object.entries(WIRE_MODES) as [WriteMode, WireWriteMode][]).find(([, v]) => v === value)?.[0];
}
