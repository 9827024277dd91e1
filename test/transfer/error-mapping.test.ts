/** The transfer service's one error mapping: each kind of failure gets one RPC status, one HTTP status, and keeps its cause. */
import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { MongoNetworkError } from "mongodb";
import { FormatError } from "../../formats/_sdk/index.js";
import { TransferCancelledError, TransferSettingsError } from "../../services/transfer/core/errors.js";
import { codeName, toConnectError, toHttpError } from "../../services/transfer/error-mapping.js";
import { InvalidTransferRequestError, JobNotFoundError, LimitExceededError, TransferDisabledError, UnknownFormatError, UnsupportedFormatOperationError } from "../../services/transfer/errors.js";
import { FormatPluginError, WorkerPoolClosedError } from "../../services/transfer/plugins/workers/index.js";

describe("the transfer error mapping", () => {
  it.each([
    ["bad plugin options", new TransferSettingsError("invalid options for the csv format", [{ setting: "pluginOptions.delimiter", reason: "too long" }]), Code.InvalidArgument, 400],
    ["a malformed request", new InvalidTransferRequestError("entity is required", "entity"), Code.InvalidArgument, 400],
    ["a file that cannot be read further", new FormatError("unterminated quote", { row: 3 }), Code.InvalidArgument, 400],
    ["a format that cannot do this direction", new UnsupportedFormatOperationError("html", "read"), Code.InvalidArgument, 400],
    ["an unknown format", new UnknownFormatError("xml", ["csv"]), Code.NotFound, 404],
    ["an unknown job", new JobNotFoundError("j1"), Code.NotFound, 404],
    ["the file size limit", new LimitExceededError("file size", 50, "MiB"), Code.ResourceExhausted, 413],
    ["a cancelled job", new TransferCancelledError(), Code.Canceled, 499],
    ["a disabled module", new TransferDisabledError(), Code.Unavailable, 503],
    ["the records service being down", new ConnectError("connect ECONNREFUSED 127.0.0.1:50051", Code.Unavailable), Code.Unavailable, 503],
    ["its own database being down", new MongoNetworkError("socket closed"), Code.Unavailable, 503],
    ["a plugin that failed in a format worker", new FormatPluginError("xlsx", "timed-out", "no progress for 30000 ms"), Code.Internal, 500],
    ["a service stopping while a job waits for a format worker", new WorkerPoolClosedError(), Code.Unavailable, 503],
    ["a bug", new TypeError("undefined is not a function"), Code.Internal, 500],
  ])("maps %s to one status and keeps the cause", (_what, error, code, http) => {
    const mapped = toConnectError(error);
    expect(mapped.code).toBe(code);
    expect(mapped === error || mapped.cause === error).toBe(true);
    expect(toHttpError(error).status).toBe(http);
    expect(toHttpError(error).body.code).toBe(codeName(code));
  });

  it("says the records service is unavailable, and does not leak internals of a bug", () => {
    expect(toConnectError(new ConnectError("connect ECONNREFUSED", Code.Unavailable)).rawMessage).toMatch(/^the records service is unavailable/);
    expect(toConnectError(new Error("secret stack detail")).rawMessage).toBe("internal error in the transfer service");
  });

  it("names the plugin that failed in a format worker, and what happened to it", () => {
    expect(toConnectError(new FormatPluginError("xlsx", "out-of-memory", "its worker reached the heap limit of 256 MiB")).rawMessage).toBe(
      'format plugin "xlsx" ran out of memory: its worker reached the heap limit of 256 MiB',
    );
  });

  it("names bad settings in field violations", () => {
    const mapped = toConnectError(new TransferSettingsError("bad", [{ setting: "fields[1]", reason: "is not a field" }]));
    expect(mapped.details).toHaveLength(1);
  });
});
