// Builds dist/ once per Jest run: tests that start ShopFlow in child processes run the compiled code.
import { execFileSync } from "node:child_process";
import path from "node:path";

export default function globalSetup(): void {
	const root = path.resolve(__dirname, "..", "..");
	execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], {
		cwd: root,
		stdio: "inherit",
	});
}
