// Every test process runs as NODE_ENV=test: memory stores, no demo data, quiet logs, no ambient cluster settings.
process.env.NODE_ENV = "test";
// The one exception: the storage contract (test/unit/mixins/db/storage-contract.spec.ts) runs on the MongoDB the
// user names with MONGO_URL; it is kept aside under another name so that no other suite picks it up.
if (process.env.MONGO_URL) process.env.SHOPFLOW_TEST_MONGO_URL ??= process.env.MONGO_URL;
for (const name of ["NATS_URL", "REDIS_URL", "MONGO_URL", "SERVICES", "DATA_DIR", "PORT", "NODE_ID"]) delete process.env[name];

/** The MongoDB the user gave the test run (MONGO_URL), or null. */
export function mongoUrlForTests(): string | null {
	return process.env.SHOPFLOW_TEST_MONGO_URL || null;
}
