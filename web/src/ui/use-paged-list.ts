/**
 * A list read page by page from a listing RPC (ListJobs, ListAuditEvents):
 * the first page whenever `fetchPage` changes (its filter did), the next one
 * on "Load more". Only the newest request's answer is kept, so a slow answer
 * to an older filter never replaces a newer one; the rows shown stay in place
 * while the next answer loads (no layout jump).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { messageOf } from "./errors.js";

export interface Page<T> {
  items: T[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export interface PagedList<T> {
  /** Undefined until the first page has come. */
  items: T[] | undefined;
  loading: boolean;
  error: string | undefined;
  hasMore: boolean;
  reload(): void;
  loadMore(): void;
}

/** `fetchPage` should be memoised on its filter; `enabled` false asks for nothing (a page the roles do not allow, or a filter with a problem). */
export function usePagedList<T>(fetchPage: (pageToken: string) => Promise<Page<T>>, enabled: boolean): PagedList<T> {
  const [items, setItems] = useState<T[]>();
  const [next, setNext] = useState("");
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const newest = useRef(0);

  const load = useCallback(
    async (pageToken: string) => {
      const request = ++newest.current;
      setLoading(true);
      setError(undefined);
      try {
        const page = await fetchPage(pageToken);
        if (request !== newest.current) return;
        setItems((before) => (pageToken ? [...(before ?? []), ...page.items] : page.items));
        setNext(page.nextPageToken);
      } catch (e) {
        if (request === newest.current) setError(messageOf(e));
      } finally {
        if (request === newest.current) setLoading(false);
      }
    },
    [fetchPage],
  );

  useEffect(() => {
    if (enabled) void load("");
  }, [load, enabled]);

  return { items, loading, error, hasMore: next !== "", reload: () => void load(""), loadMore: () => void load(next) };
}
