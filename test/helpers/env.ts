// Every test process runs as NODE_ENV=test: memory stores, no demo data, quiet logs, no ambient cluster settings.
process.env.NODE_ENV = "test";
for (const name of ["NATS_URL", "REDIS_URL", "MONGO_URL", "SERVICES", "DATA_DIR", "PORT", "NODE_ID"]) delete process.env[name];

// moleculer-db promisifies NeDB methods that already return promises (DEP0174): harmless, and it floods the output.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
	const code = typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
	if (code === "DEP0174") return;
	(emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
