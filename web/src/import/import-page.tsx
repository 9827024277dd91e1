/**
 * The import page: pick a file and the entity; the service reads its first
 * rows (PreviewImport: format and encoding detected, columns, suggested
 * fields), the mapping editor says which column fills which field, and the
 * preview shows what importing would do to each of the first rows (new,
 * update, unchanged, skip, error). Import uploads the file (POST /import
 * with async=true: a browser cannot stream an upload to the Import RPC) and
 * opens the job, which follows it live.
 */
import { useEffect, useState } from "react";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { DescribeEntityResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { PreviewImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { NotAllowed } from "../ui/not-allowed.js";
import { ENTITIES } from "../export/export-form.js";
import { entityText } from "../jobs/job-text.js";
import { isAbort, messageOf } from "../ui/errors.js";
import { ImportPreviewTable } from "./import-preview-table.js";
import { MappingEditor } from "./mapping-editor.js";
import { duplicateFields, mappingsOf, mergeMapping, type ColumnMapping } from "./mapping.js";

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

function ImportControls() {
  const { client, accessToken } = useApp();
  const [file, setFile] = useState<File>();
  const [entity, setEntity] = useState<Entity>(Entity.USERS);
  const [mode, setMode] = useState<WriteMode>(WriteMode.UPSERT);
  const [strict, setStrict] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [description, setDescription] = useState<DescribeEntityResponse>();
  const [mapping, setMapping] = useState<ColumnMapping>({});
  const [preview, setPreview] = useState<{ result?: PreviewImportResponse; loading: boolean; error?: string }>({ loading: false });
  const [upload, setUpload] = useState<{ busy: boolean; error?: string }>({ busy: false });

  useEffect(() => {
    let live = true;
    client.describeEntity({ entity }).then(
      (r) => live && setDescription(r.description),
      (e) => live && setPreview({ loading: false, error: messageOf(e) }),
    );
    setMapping({});
    return () => {
      live = false;
    };
  }, [client, entity]);

  // The preview, again whenever the file, the entity, the mode or the mapping changes.
  const mappingKey = JSON.stringify(mapping);
  useEffect(() => {
    if (!file) return;
    const abort = new AbortController();
    setPreview((p) => ({ ...p, loading: true, error: undefined }));
    const timer = setTimeout(async () => {
      try {
        const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
        const chosen = JSON.parse(mappingKey) as ColumnMapping;
        const result = await client.previewImport(
          { header: { entity, mode, strict, fileName: file.name, mappings: mappingsOf(chosen) }, head, complete: file.size <= HEAD_BYTES, rows: 20 },
          { signal: abort.signal },
        );
        setPreview({ result, loading: false });
        const merged = mergeMapping(chosen, result.columns, result.suggestions);
        if (JSON.stringify(merged) !== mappingKey) setMapping(merged);
      } catch (e) {
        if (!isAbort(e, abort.signal)) setPreview({ loading: false, error: messageOf(e) });
      }
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, file, entity, mode, strict, mappingKey]);

  const start = async () => {
    if (!file) return;
    setUpload({ busy: true });
    const form = new FormData();
    form.append("entity", entityText(entity));
    form.append("mode", MODES.find((m) => m.mode === mode)!.name);
    form.append("strict", String(strict));
    form.append("dry_run", String(dryRun));
    if (Object.keys(mapping).length > 0) form.append("mapping", JSON.stringify(mappingsOf(mapping)));
    form.append("file", file, file.name);
    try {
      const token = await accessToken();
      const res = await fetch("/import?async=true", { method: "POST", body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const body = (await res.json()) as { jobId?: string; message?: string };
      if (res.status !== 202 || !body.jobId) throw new Error(body.message ?? `the upload was answered ${res.status}`);
      window.location.hash = `#/jobs/${body.jobId}`;
    } catch (e) {
      setUpload({ busy: false, error: messageOf(e) });
    }
  };

  const result = preview.result;
  const writable = (description?.fields ?? []).filter((f) => !f.readOnly).map((f) => ({ key: f.key, label: f.label, required: f.required }));
  const blocked = !file || !result || preview.loading || result.headerErrors.length > 0 || duplicateFields(mapping).length > 0;

  return (
    <section className="import-page">
      <h1>Import</h1>
      <form className="export-form" onSubmit={(e) => (e.preventDefault(), !blocked && !upload.busy && void start())}>
        <div className="row">
          <label>
            File
            <input type="file" name="file" onChange={(e) => (setFile(e.currentTarget.files?.[0]), setMapping({}), setPreview({ loading: false }))} />
          </label>
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
        {result && (
          <p className="muted" data-testid="detected">
            Read as {result.format}
            {result.formatChosenBy && ` (${result.formatChosenBy})`}
            {result.encoding && `, ${result.encoding}`}; {result.columns.length} columns.
          </p>
        )}
        {result && result.columns.length > 0 && <MappingEditor columns={result.columns} fields={writable} suggestions={result.suggestions} mapping={mapping} onChange={setMapping} />}
        {result?.headerErrors.map((e) => (
          <p key={`${e.column}-${e.reason}`} className="error" role="alert">
            {e.column && `${e.column}: `}
            {e.reason}
          </p>
        ))}
        <div className="actions">
          <button type="submit" disabled={blocked || upload.busy}>
            {dryRun ? "Dry run" : "Import"}
          </button>
          {upload.error && (
            <span className="status error" role="alert">
              {upload.error}
            </span>
          )}
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
        <ImportPreviewTable rows={result?.rows ?? []} fields={Object.values(mapping).filter(Boolean)} loading={preview.loading} />
      ) : (
        <p className="muted">Pick a file to see what importing it would do.</p>
      )}
    </section>
  );
}
