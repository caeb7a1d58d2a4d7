/**
 * Finds the TypeScript examples of the README and docs/: every fenced ```ts block, with the
 * heading it sits under and the `<!-- not run: why -->` marker written right before it.
 */
import { readFileSync } from "node:fs";

/** One fenced ```ts block of a Markdown file. */
export interface CodeBlock {
  /** `docs/admin.md#ACLs`: the file and the heading above the block, plus ` (2)`, ` (3)`, … for later blocks under the same heading. Stable while lines move. */
  id: string;
  /** Repository-relative path of the Markdown file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The code between the fences. */
  code: string;
  /** The reason given by a `<!-- not run: reason -->` comment just before the block, if any. */
  notRun?: string;
}

const FENCE = /^```(\S*)\s*$/;
const HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;
const NOT_RUN = /^<!--\s*not run:\s*(.*?)\s*-->$/;

/** The ```ts (and ```typescript) blocks of `file` (read from `root/file`), in order. */
export function typeScriptBlocks(root: string, file: string): CodeBlock[] {
  const lines = readFileSync(`${root}/${file}`, "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  const perHeading = new Map<string, number>();
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const headingMatch = HEADING.exec(line);
    if (headingMatch) {
      heading = headingMatch[1] as string;
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: code fence never closed`);
    const lang = fence[1] as string;
    if (lang === "ts" || lang === "typescript") {
      const n = (perHeading.get(heading) ?? 0) + 1;
      perHeading.set(heading, n);
      // The marker may be separated from the fence by blank lines, nothing else.
      let k = i - 1;
      while (k >= 0 && (lines[k] as string).trim() === "") k--;
      const marker = k >= 0 ? NOT_RUN.exec((lines[k] as string).trim()) : null;
      blocks.push({
        id: `${file}#${heading}${n > 1 ? ` (${n})` : ""}`,
        file,
        line: i + 1,
        code: lines.slice(i + 1, end).join("\n"),
        ...(marker ? { notRun: marker[1] as string } : {}),
      });
    }
    i = end; // a heading-like line inside a block (a `# comment` in sh) is not a heading
  }
  return blocks;
}
