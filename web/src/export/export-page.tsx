/**
 * The export page: entity, format (ListFormats) and its options (a form from
 * the format's options schema), fields with their labels
 * (DescribeEntity), filters, sort and limit; a live preview of the first 20
 * rows; then the download with progress and Cancel. Hidden behind a reason
 * when the person's roles do not allow exports.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { Format } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { DescribeEntityResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { useApp } from "../app-context.js";
import { FormatOptionsForm, type OptionProblems } from "../ui/format-options-form.js";
import { NotAllowed } from "../ui/not-allowed.js";
import { isAbort, messageOf } from "../ui/errors.js";
import { ENTITIES, exportRequestOf, formProblems, initialForm, type ExportForm } from "./export-form.js";
import { ndjsonRows, runExport, saveFile, type ExportProgressUpdate } from "./export-stream.js";
import { FieldPicker } from "./field-picker.js";
import { fieldChoice } from "./field-choice.js";
import { PreviewTable, type PreviewColumn } from "./preview-table.js";
import { DateRangeInputs } from "../ui/date-range-inputs.js";

/** Rows in the live preview. */
export const PREVIEW_ROWS = 20;
/** Wait this long after the last change before asking for a preview (each preview is a small export job). */
const PREVIEW_DELAY_MS = 600;

type Download =
  | { state: "idle" }
  | { state: "running"; progress: ExportProgressUpdate }
  | { state: "done"; fileName: string; records: number }
  | { state: "cancelled" }
  | { state: "failed"; error: string };

export function ExportPage() {
  const { capabilities } = useApp();
  if (!capabilities.export) return <NotAllowed title="Export" action="Exporting" roles={["exporter", "admin"]} />;
  return <ExportControls />;
}

function ExportControls() {
  const { client, capabilities } = useApp();
  const [form, setForm] = useState<ExportForm>(initialForm);
  const [formats, setFormats] = useState<Format[]>([]);
  const [description, setDescription] = useState<DescribeEntityResponse>();
  const [loadError, setLoadError] = useState<string>();
  const [preview, setPreview] = useState<{ columns: PreviewColumn[]; rows: Record<string, unknown>[]; loading: boolean; error?: string }>({ columns: [], rows: [], loading: false });
  const [download, setDownload] = useState<Download>({ state: "idle" });
  const [optionProblems, setOptionProblems] = useState<OptionProblems>({});
  const [optionsOpen, setOptionsOpen] = useState(false);
  const downloadAbort = useRef<AbortController>(undefined);
  const update = (patch: Partial<ExportForm>) => setForm((f) => ({ ...f, ...patch }));

  useEffect(() => {
    client.listFormats({}).then(
      (r) => setFormats(r.formats.filter((f) => f.canWrite)),
      (e) => setLoadError(messageOf(e)),
    );
  }, [client]);

  useEffect(() => {
    let live = true;
    setDescription(undefined);
    client.describeEntity({ entity: form.entity }).then(
      (r) => {
        if (!live || !r.description) return;
        setDescription(r.description);
        const { preselected } = fieldChoice(fieldsOf(r.description), capabilities.pii);
        setForm((f) => ({ ...f, fields: preselected.map((o) => o.key), status: "", userId: "", courseId: "", timeField: r.description!.timeFields[0] ?? "", from: "", to: "", sort: "" }));
      },
      (e) => live && setLoadError(messageOf(e)),
    );
    return () => {
      live = false;
    };
  }, [client, form.entity, capabilities.pii]);

  const problems = formProblems(form);
  const ready = description !== undefined && Object.keys(problems).length === 0;
  const optionsBlocked = Object.keys(optionProblems).length > 0;
  // The preview depends on what is exported, not on the download's format or its options.
  const previewKey = JSON.stringify({ ...form, format: "", formatOptions: {} });
  const chosenFormat = formats.find((f) => f.name === form.format);

  useEffect(() => {
    if (!ready) {
      setPreview({ columns: [], rows: [], loading: false });
      return;
    }
    const abort = new AbortController();
    setPreview((p) => ({ ...p, loading: true, error: undefined }));
    const timer = setTimeout(() => {
      runExport(client, exportRequestOf(JSON.parse(previewKey) as ExportForm, { format: "ndjson", limit: PREVIEW_ROWS }), abort.signal).then(
        (r) => setPreview({ columns: r.columns, rows: ndjsonRows(r.chunks), loading: false }),
        (e) => !isAbort(e, abort.signal) && setPreview({ columns: [], rows: [], loading: false, error: messageOf(e) }),
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, previewKey, ready]);

  const start = async () => {
    const abort = new AbortController();
    downloadAbort.current = abort;
    setDownload({ state: "running", progress: { records: 0, estimatedTotal: 0, bytes: 0 } });
    try {
      const result = await runExport(client, exportRequestOf(form, { estimateTotal: true }), abort.signal, (progress) => setDownload({ state: "running", progress }));
      saveFile(result);
      setDownload({ state: "done", fileName: result.fileName, records: result.records });
    } catch (error) {
      setDownload(isAbort(error, abort.signal) ? { state: "cancelled" } : { state: "failed", error: messageOf(error) });
    } finally {
      downloadAbort.current = undefined;
    }
  };

  const fieldKeys = useMemo(() => new Set(description?.fields.map((f) => f.key) ?? []), [description]);
  const statusField = description?.fields.find((f) => f.key === "status");
  // Joined fields are filled in after the records are read and sorted: the records service refuses to sort by one.
  const sortable = description ? fieldChoice(fieldsOf(description), capabilities.pii).offered.filter((f) => !f.joined) : [];

  return (
    <section className="export-page">
      <h1>Export</h1>
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      <form className="export-form" onSubmit={(e) => (e.preventDefault(), ready && !optionsBlocked && download.state !== "running" && void start())}>
        <div className="row">
          <label>
            Entity
            <select name="entity" value={form.entity} onChange={(e) => update({ entity: Number(e.currentTarget.value) })}>
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
              value={form.format}
              onChange={(e) => {
                // Another format has other options: what was set for the last one is not carried over.
                update({ format: e.currentTarget.value, formatOptions: {} });
                setOptionProblems({});
              }}
            >
              {formats.length === 0 && <option value="csv">csv</option>}
              {formats.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.title || f.name} (.{f.extensions[0] ?? f.name})
                </option>
              ))}
            </select>
          </label>
        </div>
        {chosenFormat && (
          // Folded until wanted: most downloads take the format's defaults. Open while an option is wrong.
          <details className="options-box" open={optionsOpen || optionsBlocked} onToggle={(e) => setOptionsOpen(e.currentTarget.open)}>
            <summary>Format options{Object.keys(form.formatOptions).length > 0 && ` (${Object.keys(form.formatOptions).join(", ")} set)`}</summary>
            <FormatOptionsForm
              key={chosenFormat.name}
              legend={`${chosenFormat.title || chosenFormat.name} options`}
              schema={chosenFormat.optionsJsonSchema}
              value={form.formatOptions}
              onChange={(formatOptions, problems) => {
                update({ formatOptions: formatOptions as ExportForm["formatOptions"] });
                setOptionProblems(problems);
              }}
            />
          </details>
        )}
        {description ? (
          <FieldPicker
            fields={fieldsOf(description)}
            pii={capabilities.pii}
            selected={form.fields}
            onChange={(fields) => update({ fields })}
            problemId={problems.fields ? "export-fields-problem" : undefined}
          />
        ) : (
          <p className="muted fields-placeholder">Loading fields…</p>
        )}
        {problems.fields && <p className="error">{problems.fields}</p>}
        <fieldset className="filters">
          <legend>Filters</legend>
          <div className="row">
            {statusField && statusField.allowedValues.length > 0 && (
              <label>
                Status
                <select name="status" value={form.status} onChange={(e) => update({ status: e.currentTarget.value })}>
                  <option value="">any</option>
                  {statusField.allowedValues.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {fieldKeys.has("userId") && (
              <label>
                User
                <input name="userId" value={form.userId} placeholder="username" onChange={(e) => update({ userId: e.currentTarget.value })} />
              </label>
            )}
            {fieldKeys.has("courseId") && (
              <label>
                Course
                <input name="courseId" value={form.courseId} placeholder="course code" onChange={(e) => update({ courseId: e.currentTarget.value })} />
              </label>
            )}
          </div>
          {description && description.timeFields.length > 0 && (
            <div className="row">
              <label>
                Date
                <select name="timeField" value={form.timeField} onChange={(e) => update({ timeField: e.currentTarget.value })}>
                  {description.timeFields.map((t) => (
                    <option key={t} value={t}>
                      {description.fields.find((f) => f.key === t)?.label ?? t}
                    </option>
                  ))}
                </select>
              </label>
              <DateRangeInputs from={form.from} to={form.to} problem={problems.to} names={["from", "to"]} problemId="export-to-problem" onChange={(range) => update(range)} />
            </div>
          )}
          <div className="row">
            <label>
              Sort by
              <select name="sort" value={form.sort} onChange={(e) => update({ sort: e.currentTarget.value })}>
                <option value="">natural key</option>
                {sortable.map((f) => (
                  <option key={f.key} value={f.key}>
                    {f.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              <input type="checkbox" name="descending" checked={form.descending} onChange={(e) => update({ descending: e.currentTarget.checked })} />
              descending
            </label>
            <div className="control">
              <label>
                Limit
                <input
                  name="limit"
                  inputMode="numeric"
                  value={form.limit}
                  placeholder="all"
                  aria-invalid={Boolean(problems.limit)}
                  aria-describedby={problems.limit ? "export-limit-problem" : undefined}
                  onChange={(e) => update({ limit: e.currentTarget.value })}
                />
              </label>
              {problems.limit && (
                <span id="export-limit-problem" className="error">
                  {problems.limit}
                </span>
              )}
            </div>
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={!ready || optionsBlocked || download.state === "running"}>
            Download
          </button>
          {download.state === "running" && (
            <button type="button" className="secondary" onClick={() => downloadAbort.current?.abort()}>
              Cancel
            </button>
          )}
          <DownloadStatus download={download} />
        </div>
      </form>
      <PreviewTable columns={preview.columns} rows={preview.rows} loading={preview.loading} error={preview.error} />
    </section>
  );
}

function DownloadStatus({ download }: { download: Download }) {
  switch (download.state) {
    case "idle":
      return null;
    case "running": {
      const { records, estimatedTotal } = download.progress;
      return (
        <span className="status" role="status">
          <progress max={estimatedTotal || undefined} value={estimatedTotal ? records : undefined} aria-label="Export progress" />
          {records} {estimatedTotal ? `of about ${estimatedTotal} ` : ""}records
        </span>
      );
    }
    case "done":
      return (
        <span className="status ok" role="status">
          Downloaded {download.fileName} ({download.records} records)
        </span>
      );
    case "cancelled":
      return (
        <span className="status" role="status">
          Cancelled.
        </span>
      );
    case "failed":
      return (
        <span className="status error" role="alert">
          {download.error}
        </span>
      );
  }
}

function fieldsOf(description: DescribeEntityResponse) {
  return description.fields.map((f) => ({ key: f.key, label: f.label, personal: f.personal, writeOnly: f.writeOnly, joined: f.joined, description: f.description }));
}
