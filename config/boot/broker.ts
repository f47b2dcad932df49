/**
 * Creates a ShopFlow broker with the services one node runs. Used by `npm start`, the REPL and the tests.
 */
import fs from "node:fs";
import path from "node:path";
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from "moleculer";
import { ConfigError, getConfig, type Config } from "../env";
import { createBrokerOptions } from "../../moleculer.config";
import { batchClientSocketWrites } from "./socket-batching";
import { SERVICE_NAMES, resolveServiceName, type ServiceName } from "../../services/common/names";

const SERVICES_DIR = path.resolve(__dirname, "..", "..", "services");

/** The services a SERVICES list names, in the canonical order; seed names are accepted. */
export function selectServices(list: string[] | null): ServiceName[] {
	if (!list) return [...SERVICE_NAMES];
	const chosen = new Set<ServiceName>();
	for (const raw of list) {
		const name = resolveServiceName(raw);
		if (!name) throw new ConfigError("SERVICES", `unknown service "${raw}" (known: ${SERVICE_NAMES.join(", ")})`);
		chosen.add(name);
	}
	return SERVICE_NAMES.filter(n => chosen.has(n));
}

type SchemaExport = ServiceSchema | ((config: Config) => ServiceSchema);

/** Loads the schema of one service from services/<name>.service.(ts|js); a factory export is given the config. */
export function loadServiceSchema(name: ServiceName, config: Config = getConfig()): ServiceSchema {
	const base = path.join(SERVICES_DIR, `${name}.service`);
	const file = [".js", ".ts"].map(ext => base + ext).find(f => fs.existsSync(f));
	if (!file) throw new Error(`service file for '${name}' not found at ${base}.(ts|js)`);
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const mod = require(file) as { default?: SchemaExport };
	if (!mod.default) throw new Error(`${file} has no default export`);
	return typeof mod.default === "function" ? mod.default(config) : mod.default;
}

export interface ShopBrokerOptions {
	config?: Config;
	services?: ServiceName[];
	broker?: Partial<BrokerOptions>;
}

/** A broker with the chosen services created (not yet started). */
export function createShopBroker(opts: ShopBrokerOptions = {}): ServiceBroker {
	const config = opts.config ?? getConfig();
	// Before the transporter and the stores connect: one write per event-loop turn on each of their sockets.
	batchClientSocketWrites();
	const broker = new ServiceBroker(createBrokerOptions(config, opts.broker));
	for (const name of opts.services ?? selectServices(config.services)) broker.createService(loadServiceSchema(name, config));
	return broker;
}
