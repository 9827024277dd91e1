/**
 * The import page: drop or pick a file and the entity; the service reads its
 * first rows (PreviewImport: format, encoding and dialect detected, columns,
 * suggested fields), the person may name another format and set its options
 * (rendered from the format's options schema), the mapping editor says which
 * column fills which field and through which transforms, and the preview
 * shows what importing would do to each of the first rows (new, update,
 * unchanged, skip, error). Import uploads the file (POST /import with
 * async=true: a browser cannot stream an upload to the Import RPC) with a
 * progress bar of the bytes sent and Cancel, then opens the job, which
 * follows its rows live (WatchJob).
 *
 * Until a file is read the page keeps the room the detected format, the
 * mapping and the preview will take, so nothing jumps when they arrive.
 */
import { useEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";
import { ConnectError } from "@connectrpc/connect";
import type { JsonObject } from "@bufbuild/protobuf";
import { Entity, FieldViolationsSchema, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { DescribeEntityResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobState, type Format, type PreviewImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { NotAllowed } from "../ui/not-allowed.js";
import { ENTITIES } from "../export/export-form.js";
import { entityText } from "../jobs/job-text.js";
import { isAbort, messageOf } from "../ui/errors.js";
import { FormatOptionsForm, type FormatOptions, type OptionProblems } from "../ui/format-options-form.js";
import { ImportPreviewTable } from "./import-preview-table.js";
import { MappingEditor } from "./mapping-editor.js";
import { duplicateFields, mappingsOf, mergeMapping, wireMappingsOf, type ColumnMapping } from "./mapping.js";
import { columnsWithProblems, type ColumnTransforms } from "./transforms.js";
import { bytesText } from "../ui/bytes-text.js";
import { uploadImport } from "./upload.js";
import { newRequestId, settleCancelledUpload, type CancelledUpload } from "./cancelled-upload.js";

/** What PreviewImport reads of the file at most. */
const HEAD_BYTES = 1024 * 1024;
const PREVIEW_DELAY_MS = 400;
const MODES: { mode: WriteMode; name: string; label: string }[] = [
  { mode: WriteMode.UPSERT, name: "upsert", label: "upsert: insert new, replace existing" },
  { mode: WriteMode.INSERT, name: "insert", label: "insert: an existing key is an error" },
  { mode: WriteMode.MERGE, name: "merge", label: "merge: set the given fields on existing" },
  { mode: WriteMode.SKIP_EXISTING, name: "skip-existing", label: "skip existing records" },
];

export function ImportPage() {
  const { capabilities } = useApp();
  if (!capabilities.import) return <NotAllowed title="Import" action="Importing" roles={["importer", "admin"]} />;
  return <ImportControls />;
}

/** The upload's course; after a Cancel, "checking" while the page asks the service whether a job started anyway (cancelled-upload.ts). */
type Upload =
  | { state: "idle" }
  | { state: "sending"; sent: number; total: number }
  | { state: "starting"; total: number }
  | { state: "checking" }
  | { state: "cancelled"; outcome: CancelledUpload }
  | { state: "failed"; error: string };

type Preview = { result?: PreviewImportResponse; loading: boolean; error?: string; transformProblems?: Record<string, Record<number, string>> };

function ImportControls() {
  const { client, accessToken } = useApp();
  const [file, setFile] = useState<File>();
  const [entity, setEntity] = useState<Entity>(Entity.USERS);
  const [mode, setMode] = useState<WriteMode>(WriteMode.UPSERT);
  const [strict, setStrict] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [formats, setFormats] = useState<Format[]>([]);
  /** "" while the format is the one the service detects. */
  const [format, setFormat] = useState("");
  const [options, setOptions] = useState<{ value: FormatOptions; problems: OptionProblems }>({ value: {}, problems: {} });
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [description, setDescription] = useState<DescribeEntityResponse>();
  const [mapping, setMapping] = useState<ColumnMapping>({});
  const [transforms, setTransforms] = useState<ColumnTransforms>({});
  const [preview, setPreview] = useState<Preview>({ loading: false });
  const [upload, setUpload] = useState<Upload>({ state: "idle" });
  const uploadAbort = useRef<AbortController>(undefined);

  useEffect(() => {
    client.listFormats({}).then(
      (r) => setFormats(r.formats.filter((f) => f.canRead)),
      (e) => setPreview((p) => ({ ...p, error: messageOf(e) })),
    );
  }, [client]);

  useEffect(() => {
    let live = true;
    client.describeEntity({ entity }).then(
      (r) => live && setDescription(r.description),
      (e) => live && setPreview({ loading: false, error: messageOf(e) }),
    );
    setMapping({});
    setTransforms({});
    return () => {
      live = false;
    };
  }, [client, entity]);

  const chooseFile = (chosen: File | undefined) => {
    setFile(chosen);
    setMapping({});
    setTransforms({});
    setFormat("");
    setOptions({ value: {}, problems: {} });
    setPreview({ loading: false });
    setUpload({ state: "idle" });
  };

  const mappedColumns = Object.keys(mapping).filter((c) => mapping[c]);
  const transformsBlocked = columnsWithProblems(transforms, mappedColumns);
  const optionsBlocked = Object.keys(options.problems).length > 0;

  // The preview, again whenever the file, the entity, the mode, the format, its options, the mapping or its transforms change.
  const requestKey = JSON.stringify({ mapping, transforms, format, options: options.value });
  const previewable = Boolean(file) && transformsBlocked.length === 0 && !optionsBlocked;
  useEffect(() => {
    if (!file || !previewable) return;
    const abort = new AbortController();
    setPreview((p) => ({ ...p, loading: true, error: undefined, transformProblems: undefined }));
    const timer = setTimeout(async () => {
      const chosen = JSON.parse(requestKey) as { mapping: ColumnMapping; transforms: ColumnTransforms; format: string; options: JsonObject };
      try {
        const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
        const result = await client.previewImport(
          {
            header: { entity, mode, strict, fileName: file.name, format: chosen.format, formatOptions: chosen.options, mappings: wireMappingsOf(chosen.mapping, chosen.transforms) },
            head,
            complete: file.size <= HEAD_BYTES,
            rows: 20,
          },
          { signal: abort.signal },
        );
        setPreview({ result, loading: false });
        const merged = mergeMapping(chosen.mapping, result.columns, result.suggestions);
        if (JSON.stringify(merged) !== JSON.stringify(chosen.mapping)) setMapping(merged);
      } catch (e) {
        if (!isAbort(e, abort.signal)) setPreview((p) => ({ result: p.result, loading: false, error: messageOf(e), transformProblems: transformProblemsOf(e, chosen.mapping) }));
      }
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, file, entity, mode, strict, requestKey, previewable]);

  const start = async () => {
    if (!file) return;
    const abort = new AbortController();
    uploadAbort.current = abort;
    setUpload({ state: "sending", sent: 0, total: file.size });
    const form = new FormData();
    form.append("entity", entityText(entity));
    form.append("mode", MODES.find((m) => m.mode === mode)!.name);
    form.append("strict", String(strict));
    form.append("dry_run", String(dryRun));
    if (format) form.append("format", format);
    if (Object.keys(options.value).length > 0) form.append("options", JSON.stringify(options.value));
    if (Object.keys(mapping).length > 0) form.append("mapping", JSON.stringify(mappingsOf(mapping, transforms)));
    form.append("file", file, file.name);
    const requestId = newRequestId();
    try {
      const token = await accessToken();
      const { jobId } = await uploadImport(
        form,
        requestId,
        token,
        ({ sent, total }) => {
          // The last bytes are shown before the service's answer moves the page on (flushSync: not batched with the navigation).
          if (total > 0 && sent >= total) flushSync(() => setUpload({ state: "starting", total }));
          else setUpload({ state: "sending", sent, total: total || file.size });
        },
        abort.signal,
      );
      window.location.hash = `#/jobs/${jobId}`;
    } catch (e) {
      if (!isAbort(e, abort.signal)) setUpload({ state: "failed", error: messageOf(e) });
      else await settleCancel(requestId);
    } finally {
      uploadAbort.current = undefined;
    }
  };
  /**
   * After a Cancel: whether the service had started the job all the same (and
   * then cancels it), before the page says what happened. Also when the
   * Cancel was leaving the page: a job nobody watches is cancelled too.
   */
  const settleCancel = async (requestId: string) => {
    if (mounted.current) setUpload({ state: "checking" });
    try {
      const outcome = await settleCancelledUpload(client, requestId);
      if (mounted.current) setUpload({ state: "cancelled", outcome });
    } catch (e) {
      if (mounted.current) setUpload({ state: "failed", error: `The upload was cancelled, but whether the service had started its job could not be checked (${messageOf(e)}): see Jobs.` });
    }
  };
  const mounted = useRef(true);
  // Leaving the page while uploading cancels the upload: nothing would show its progress.
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      uploadAbort.current?.abort();
    };
  }, []);

  const result = preview.result;
  const writable = (description?.fields ?? []).filter((f) => !f.readOnly).map((f) => ({ key: f.key, label: f.label, required: f.required }));
  const uploading = upload.state === "sending" || upload.state === "starting" || upload.state === "checking";
  const blocked =
    !file || !result || preview.loading || Boolean(preview.error) || result.headerErrors.length > 0 || duplicateFields(mapping).length > 0 || transformsBlocked.length > 0 || optionsBlocked;
  const optionsFormat = formats.find((f) => f.name === (format || result?.format));

  return (
    <section className="import-page">
      <h1>Import</h1>
      <form className="export-form" onSubmit={(e) => (e.preventDefault(), !blocked && !uploading && void start())}>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping a file is a shortcut for the mouse; the file input inside is the way for the keyboard. */}
        <div
          className={`drop-zone${file ? " has-file" : ""}`}
          onDragOver={(e) => e.preventDefault()}
          onDrop={(e) => {
            e.preventDefault();
            const dropped = e.dataTransfer.files[0];
            if (dropped) chooseFile(dropped);
          }}
        >
          <label>
            File
            <input type="file" name="file" disabled={uploading} onChange={(e) => chooseFile(e.currentTarget.files?.[0])} />
          </label>
          <span className="muted">{file ? bytesText(file.size) : "or drop a file here: CSV, JSON, NDJSON, XLSX or ODS"}</span>
        </div>
        <div className="row">
          <label>
            Entity
            <select name="entity" value={entity} onChange={(e) => setEntity(Number(e.currentTarget.value))}>
              {ENTITIES.map((e) => (
                <option key={e.entity} value={e.entity}>
                  {e.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Format
            <select
              name="format"
              value={format}
              onChange={(e) => {
                setFormat(e.currentTarget.value);
                setOptions({ value: {}, problems: {} });
              }}
            >
              <option value="">{result && !format ? `detected: ${result.format}` : "detect from the file"}</option>
              {formats.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.title || f.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Mode
            <select name="mode" value={mode} onChange={(e) => setMode(Number(e.currentTarget.value))}>
              {MODES.map((m) => (
                <option key={m.mode} value={m.mode}>
                  {m.label}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input type="checkbox" name="strict" checked={strict} onChange={(e) => setStrict(e.currentTarget.checked)} />
            strict (any bad row: nothing written)
          </label>
          <label className="inline">
            <input type="checkbox" name="dry_run" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} />
            dry run (write nothing)
          </label>
        </div>
        {file && <DetectedLine result={result} loading={preview.loading} />}
        {file && optionsFormat && (
          // Folded away until wanted: the detected settings suit most files. Kept open while an option is wrong.
          <details className="options-box" open={optionsOpen || optionsBlocked} onToggle={(e) => setOptionsOpen(e.currentTarget.open)}>
            <summary>Format options{Object.keys(options.value).length > 0 && ` (${Object.keys(options.value).join(", ")} set)`}</summary>
            <FormatOptionsForm
              key={optionsFormat.name}
              legend={`${optionsFormat.title || optionsFormat.name} options`}
              schema={optionsFormat.optionsJsonSchema}
              value={options.value}
              onChange={(value, problems) => setOptions({ value, problems })}
            />
          </details>
        )}
        {file && !result && <div className="mapping-placeholder muted">{preview.loading ? "Reading the file's columns…" : ""}</div>}
        {result && result.columns.length > 0 && (
          <MappingEditor
            columns={result.columns}
            fields={writable}
            suggestions={result.suggestions}
            mapping={mapping}
            onChange={setMapping}
            transforms={transforms}
            onTransformsChange={setTransforms}
            transformProblems={preview.transformProblems}
          />
        )}
        {result?.headerErrors.map((e) => (
          <p key={`${e.column}-${e.reason}`} className="error" role="alert">
            {e.column && `${e.column}: `}
            {e.reason}
          </p>
        ))}
        {(transformsBlocked.length > 0 || optionsBlocked) && (
          <p className="note" role="note">
            {transformsBlocked.length > 0 ? `Fix the transforms of ${transformsBlocked.join(", ")}` : "Fix the format options"} to preview and import.
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={blocked || uploading}>
            {dryRun ? "Dry run" : "Import"}
          </button>
          <UploadStatus upload={upload} onCancel={() => uploadAbort.current?.abort()} />
        </div>
      </form>
      {preview.error && (
        <p className="error" role="alert">
          {preview.error}
        </p>
      )}
      {result?.changesWithheld && (
        <p className="muted" data-testid="changes-withheld">
          Updates are shown without their changes: {result.changesWithheld.replace(/^the changes each update makes are not shown: /, "")}.
        </p>
      )}
      {file ? (
        <ImportPreviewTable
          rows={result?.rows ?? []}
          fields={Object.values(mapping).filter(Boolean)}
          loading={preview.loading}
          outdated={previewable ? undefined : "not up to date: fix what is marked above"}
        />
      ) : (
        <div className="empty-state">
          <p>Pick a file to see what importing it would do.</p>
          <p className="muted">
            The service reads its first rows: the format and encoding, each column and the field it fills, and for each of the first 20 rows whether it is new, an update (and what changes) or an
            error.
          </p>
        </div>
      )}
    </section>
  );
}

/** What PreviewImport read the file as: format (and how it was chosen), encoding, the dialect the reader worked out. */
function DetectedLine({ result, loading }: { result?: PreviewImportResponse; loading: boolean }) {
  if (!result)
    return (
      <p className="muted detected" data-testid="detected" aria-busy={loading}>
        {loading ? "Reading the file…" : "\u00a0"}
      </p>
    );
  const dialect = Object.entries(result.detected ?? {}).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return (
    <p className="muted detected" data-testid="detected">
      Read as {result.format}
      {result.formatChosenBy && ` (${result.formatChosenBy})`}
      {result.encoding && `, ${result.encoding}`}
      {dialect.length > 0 && `, ${dialect.join(", ")}`}; {result.columns.length} columns.
    </p>
  );
}

/** What a Cancel did: nothing imported, or the job that had started all the same, linked, and what became of it. */
function CancelledStatus({ outcome }: { outcome: CancelledUpload }) {
  if (!outcome.started)
    return (
      <span className="status" role="status">
        Upload cancelled: nothing was imported.
      </span>
    );
  const { job, cancelError } = outcome;
  const link = (
    <a href={`#/jobs/${encodeURIComponent(job.id)}`}>
      job <code>{job.id}</code>
    </a>
  );
  const now =
    cancelError !== undefined
      ? `is still running: it could not be cancelled (${cancelError}).`
      : job.state === JobState.RUNNING
        ? "is being cancelled."
        : job.state === JobState.CANCELLED
          ? "was cancelled."
          : `had already ended (${job.state === JobState.SUCCEEDED ? "succeeded" : "failed"}).`;
  return (
    <span className={`status${cancelError !== undefined ? " error" : ""}`} role={cancelError !== undefined ? "alert" : "status"}>
      The whole file had reached the service before the Cancel, and {link} had started; it {now} Its page shows what it {job.dryRun ? "checked" : "wrote"}.
    </span>
  );
}

function UploadStatus({ upload, onCancel }: { upload: Upload; onCancel(): void }) {
  switch (upload.state) {
    case "idle":
      return null;
    case "sending":
      return (
        <span className="status" role="status">
          <progress aria-label="Upload progress" max={upload.total} value={upload.sent} />
          Uploading {bytesText(upload.sent)} of {bytesText(upload.total)}
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel upload
          </button>
        </span>
      );
    case "starting":
      return (
        <span className="status" role="status">
          <progress aria-label="Upload progress" max={upload.total} value={upload.total} />
          Uploaded {bytesText(upload.total)}; starting the job…
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel upload
          </button>
        </span>
      );
    case "checking":
      return (
        <span className="status" role="status">
          Upload cancelled; checking whether the service had started the job…
        </span>
      );
    case "cancelled":
      return <CancelledStatus outcome={upload.outcome} />;
    case "failed":
      return (
        <span className="status error" role="alert">
          {upload.error}
        </span>
      );
  }
}

/**
 * The service's refusals of transforms (field violations naming
 * `mapping[i].transforms[j]…`), by column and step, to show beside the step;
 * `i` is the i-th column of the mapping sent (wireMappingsOf keeps its order).
 */
export function transformProblemsOf(error: unknown, mapping: ColumnMapping): Record<string, Record<number, string>> | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  const columns = Object.keys(mapping);
  const found: Record<string, Record<number, string>> = {};
  for (const details of error.findDetails(FieldViolationsSchema)) {
    for (const v of details.violations) {
      const at = /^mapping\[(\d+)\]\.transforms\[(\d+)\]/.exec(v.field);
      const column = at ? columns[Number(at[1])] : undefined;
      if (!at || column === undefined) continue;
      found[column] = { ...found[column], [Number(at[2])]: v.reason };
    }
  }
  return Object.keys(found).length > 0 ? found : undefined;
}
