// Every test process runs as NODE_ENV=test: memory stores, no demo data, quiet logs, no ambient cluster settings.
process.env.NODE_ENV = "test";
for (const name of ["NATS_URL", "REDIS_URL", "MONGO_URL", "SERVICES", "DATA_DIR", "PORT", "NODE_ID"]) delete process.env[name];

