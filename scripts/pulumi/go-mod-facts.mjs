// Reads the JSON of `go mod edit -json GO_MOD` on stdin and prints what a wrapper module needs to
// repeat: the `go` directive on the first line, then each replace directive that names a module
// version, as a `go mod edit` flag. Replaces by a folder (`=> ../sdk`: a sibling folder of the
// pulumi repository) are left out: the wrapper requires that module at the matching version.
let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  text += chunk;
});
process.stdin.on("end", () => {
  const mod = JSON.parse(text);
  const lines = [mod.Go ?? ""];
  for (const { Old, New } of mod.Replace ?? []) {
    if (!New.Version) continue;
    lines.push(`-replace=${Old.Path}${Old.Version ? `@${Old.Version}` : ""}=${New.Path}@${New.Version}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
});
