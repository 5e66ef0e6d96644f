import { hasErrors } from "../../provider/declaration/problem.js";
import { findDeclarationFiles, loadFoundDeclaration } from "../find-declarations.js";
import { type CliIO, formatOption, UsageError, writeJson } from "../io.js";
import { parseCommandArgs } from "../parse-args.js";
import { type FileReport, problemsAsGithub, problemsAsJson, problemsAsText } from "../render/problems.js";

export const usage = `Usage: mailserver validate [PATH...] [--format text|json|github] [--strict]

Checks declarations against the schema and the vendor rules. PATHs are files or folders (searched
recursively for *.yaml, *.yml and *.json); the default is the current folder. No secret is needed.

Options:
  --format text|json|github  output for people (default), one JSON document, or GitHub annotations
  --strict                   warnings fail too

Exit codes: 0 all valid, 1 a declaration has errors, 2 usage error (unknown flag, path not found).
`;

const FORMATS = ["text", "json", "github"] as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    format: { type: "string", default: "text" },
    strict: { type: "boolean", default: false },
  });
  const format = formatOption(values.format, FORMATS);
  const paths = await findDeclarationFiles(positionals.length > 0 ? positionals : ["."]);

  const reports: FileReport[] = [];
  let skipped = 0;
  for (const found of paths) {
    const loaded = await loadFoundDeclaration(found);
    if (!loaded) {
      skipped++;
      continue;
    }
    const { problems } = loaded;
    const failing = values.strict ? problems.length > 0 : hasErrors(problems);
    reports.push({ file: found.path, valid: !failing, problems });
  }
  if (reports.length === 0) throw new UsageError(`no declarations found in ${positionals.join(" ") || "."}`);

  if (format === "json") writeJson(io, problemsAsJson(reports));
  else if (format === "github") io.stdout.write(problemsAsGithub(reports));
  else io.stdout.write(problemsAsText(reports, io, skipped));
  return reports.every((report) => report.valid) ? 0 : 1;
}
