/**
 * Storage for a service's collections: the DbMixin gives a service a Repository per declared collection
 * (db/repository.ts) over the store adapter the configuration picks (db/adapters.ts: NeDB or MongoDB), connected
 * by its `started` handler; a call made earlier (by a mixin whose `started` runs first) waits for the connection.
 */
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { configOf } from "../config/env";
import { closeAdapter, connectAdapter, openAdapter } from "./db/adapters";
import { Repository, type CollectionSpec, type Doc, type StoreAdapter } from "./db/repository";

export { DuplicateKeyError, Repository, type CollectionSpec, type FindOptions, type IndexSpec, type StoreAdapter } from "./db/repository";
export { closeAdapter, connectAdapter, openAdapter } from "./db/adapters";

type Adapter = StoreAdapter;

export interface DbMethods {
	/** The repository of one of this service's collections. */
	collection<T extends Doc>(name: string): Repository<T>;
	/** Whether the store answers. */
	storageHealthy(): Promise<boolean>;
	/** Whether every collection is connected: from the end of `started` to the start of `stopped`. */
	collectionsOpen(): boolean;
}

interface DbState {
	$dbOpen?: boolean;
	$adapters: Map<string, Adapter>;
	$repositories: Map<string, Repository<Doc>>;
	/** Per collection: marks it connected, letting the calls made before through. */
	$opened: Map<string, () => void>;
}

/**
 * The adapter as the repository sees it: a call made before the collection is connected waits for the connection.
 * Moleculer runs the `started` handlers of later mixins first, so another mixin's (the events consumer's) may use a
 * collection before this mixin's `started` has connected it.
 */
function untilConnected(adapter: Adapter, connected: Promise<void>): Adapter {
	let open = false;
	void connected.then(() => (open = true));
	return new Proxy(adapter, {
		get(target, prop, receiver) {
			const value: unknown = Reflect.get(target, prop, receiver);
			if (typeof value !== "function" || prop === "entityToObject") return value;
			const method = value as (...args: unknown[]) => unknown;
			return (...args: unknown[]) => (open ? method.apply(target, args) : connected.then(() => method.apply(target, args)));
		},
	});
}

type DbThis = Service & DbState & DbMethods;

/** A mixin giving the service a repository per declared collection, connected before `started` handlers run. */
export function DbMixin(collections: Record<string, CollectionSpec>): Partial<ServiceSchema> {
	const schema: Partial<ServiceSchema<ServiceSettingSchema, DbMethods, DbState>> = {
		actions: {
			/** Whether this service's store answers (used by the gateway's readiness check). */
			storageHealth: {
				visibility: "public",
				async handler(this: DbThis, _ctx: Context): Promise<{ ok: boolean; store: string }> {
					const cfg = configOf(this);
					return { ok: await this.storageHealthy(), store: cfg.mongoUrl ? "mongodb" : cfg.dataDir ? "nedb-file" : "nedb-memory" };
				},
			},
		},
		methods: {
			collection<T extends Doc>(this: DbThis, name: string): Repository<T> {
				const repo = this.$repositories.get(name);
				if (!repo) throw new Error(`collection '${name}' is not declared by service '${this.name}'`);
				return repo as unknown as Repository<T>;
			},
			collectionsOpen(this: DbThis): boolean {
				return this.$dbOpen === true;
			},
			async storageHealthy(this: DbThis): Promise<boolean> {
				try {
					for (const adapter of this.$adapters.values()) {
						if (adapter.collection) {
							const db = adapter.db as { command(cmd: object): Promise<unknown> };
							await db.command({ ping: 1 });
						}
					}
					return true;
				} catch {
					return false;
				}
			},
		},
		created(this: DbThis) {
			const cfg = configOf(this);
			// Several DbMixin instances in one service add to the same maps.
			this.$adapters ??= new Map();
			this.$repositories ??= new Map();
			this.$opened ??= new Map();
			for (const name of Object.keys(collections)) {
				const adapter = openAdapter(this.broker, this.logger, cfg, this.name, name);
				const connected = new Promise<void>(resolve => this.$opened.set(name, resolve));
				this.$adapters.set(name, adapter);
				this.$repositories.set(name, new Repository(name, untilConnected(adapter, connected)));
			}
		},
		async started(this: DbThis) {
			const cfg = configOf(this);
			for (const name of Object.keys(collections)) {
				await connectAdapter(this.$adapters.get(name) as Adapter, cfg, collections[name].indexes);
				this.$opened.get(name)?.();
			}
			this.$dbOpen = true;
		},
		async stopped(this: DbThis) {
			this.$dbOpen = false;
			for (const name of Object.keys(collections)) await closeAdapter(this.$adapters.get(name) as Adapter);
		},
	};
	return schema as Partial<ServiceSchema>;
}
