/**
 * Reads docs/grafana-dashboard.json the way Grafana would for the test: every query of every
 * panel (rows' nested panels too), with the dashboard's variables replaced by concrete values,
 * so the PromQL can run against a real Prometheus.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** docs/grafana-dashboard.json from the repository root. */
export const DASHBOARD_FILE = join(import.meta.dirname, "..", "..", "..", "docs", "grafana-dashboard.json");

interface Target {
  refId?: string;
  expr?: string;
}

interface Panel {
  id?: number;
  type?: string;
  title?: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: unknown;
  gridPos?: unknown;
}

/** The parts of the dashboard the test reads. */
export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}

/** One query of one panel. */
export interface PanelQuery {
  panel: string;
  refId: string;
  /** As written in the dashboard. */
  expr: string;
}

/** Loads the dashboard file. */
export function loadDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, "utf8")) as Dashboard;
}

/** Every panel that is not a row, rows' nested panels included. */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => (p.type === "row" ? (p.panels ?? []) : [p]));
}

/** Every query of every data panel. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return dataPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, refId: t.refId ?? "?", expr: t.expr ?? "" })),
  );
}

/** Escapes `text` for a PromQL regex matcher inside a double-quoted string. */
function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
}

/**
 * Replaces Grafana's variables: `$client_id` (a multi-value variable, so used with `=~`) by
 * the given client ids as a regex alternation, `$__rate_interval`, `$__interval` and
 * `$__range` by `window`. Throws if any `$name` is left, so a new variable needs a decision here.
 */
export function concreteExpr(expr: string, values: { clientIds: readonly string[]; window: string }): string {
  const out = expr
    .replace(/\$\{?client_id\}?/g, values.clientIds.map(regexLiteral).join("|"))
    .replace(/\$\{?__(rate_interval|interval|range)\}?/g, values.window);
  const left = out.match(/\$\{?\w+/);
  if (left) throw new Error(`dashboard query ${JSON.stringify(expr)} uses ${left[0]}, which the test does not replace`);
  return out;
}
