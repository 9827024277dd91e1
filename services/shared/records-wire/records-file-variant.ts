/**
 * The records proto file with some of its messages declared otherwise, for
 * the methods that read or write the same wire without protobuf-es walking
 * every record: records-read.ts (an `EntityRecord` that declares no fields, so
 * each record stays bytes) and records-as-bytes.ts (batches whose `records`
 * are `bytes`). Connect reads and writes a method's messages with its
 * descriptor, so a variant descriptor is the only hook it offers.
 */
import { clone, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { file_dataexchange_records_v1_records } from "../../../gen/dataexchange/records/v1/records_pb.js";

/** The variant of the records file that `edit` makes of a copy of it; returns its messages by name. */
export function recordsFileVariant(edit: (proto: FileDescriptorProto) => void): (name: string) => DescMessage {
  const proto = clone(FileDescriptorProtoSchema, file_dataexchange_records_v1_records.proto);
  edit(proto);
  const dependencies = new Map(file_dataexchange_records_v1_records.dependencies.map((f) => [f.proto.name, f]));
  const registry = createFileRegistry(proto, (name) => dependencies.get(name));
  return (name) => registry.getMessage(`${proto.package}.${name}`)!;
}
