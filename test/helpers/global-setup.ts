// Builds dist/ once per Jest run: tests that start ShopFlow in child processes run the compiled code. The production
// code (tsconfig.build.json) and the tools (tsconfig.tools.json, into dist/test/tools/) are built apart.
import { execFileSync } from "node:child_process";
import path from "node:path";

export default function globalSetup(): void {
	const root = path.resolve(__dirname, "..", "..");
	for (const project of ["tsconfig.build.json", "tsconfig.tools.json"]) {
		execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: root, stdio: "inherit" });
	}
}
