/**
 * The store adapters behind the repositories: the NeDB store (a file per collection under DATA_DIR, or memory in
 * tests) or MongoDB (MONGO_URL), through moleculer-db's adapter interface. This is the only place that knows which
 * one is in use.
 */
import fs from "node:fs";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import DbService from "moleculer-db";
import MongoAdapter from "moleculer-db-adapter-mongo";
import type { Config } from "../../config/env";
import { patchNeDbIndexes } from "./nedb-index-patch";
import type { IndexSpec, StoreAdapter } from "./repository";

type Adapter = StoreAdapter;

/** NeDB (moleculer-db's MemoryAdapter) with a file per collection, or in memory when DATA_DIR is null. */
function createNeDbAdapter(serviceName: string, collection: string, dataDir: string | null): Adapter {
	patchNeDbIndexes();
	if (!dataDir) return new DbService.MemoryAdapter() as unknown as Adapter;
	fs.mkdirSync(dataDir, { recursive: true });
	const filename = path.join(dataDir, `${serviceName}.${collection}.db`);
	return new DbService.MemoryAdapter({ filename, autoload: false }) as unknown as Adapter;
}

/** Creates the declared indexes of a collection (NeDB: one field at a time). */
export async function createIndexes(adapter: Adapter, indexes: IndexSpec[]): Promise<void> {
	const mongo = adapter instanceof MongoAdapter;
	for (const ix of indexes) {
		if (mongo) {
			const coll = adapter.collection as { createIndex(spec: object, opts: object): Promise<unknown> };
			await coll.createIndex(Object.fromEntries(ix.fields.map(f => [f, 1])), { unique: !!ix.unique, sparse: !!ix.sparse });
		} else {
			const db = adapter.db as { ensureIndex(opts: object): Promise<unknown> };
			// NeDB indexes one field at a time; a compound key is indexed by its first field.
			await db.ensureIndex({ fieldName: ix.fields[0], unique: !!ix.unique && ix.fields.length === 1, sparse: !!ix.sparse });
		}
	}
}

/** The store adapter of one collection of one service (MongoDB when configured, NeDB otherwise); not yet connected. */
export function openAdapter(broker: ServiceBroker, logger: unknown, config: Config, service: string, collection: string): StoreAdapter {
	const adapter = config.mongoUrl ? (new MongoAdapter(config.mongoUrl, {}) as unknown as Adapter) : createNeDbAdapter(service, collection, config.dataDir);
	// The Mongo adapter reads the collection name from the service schema it is given.
	adapter.init(broker, { schema: { collection: `${service}_${collection}` }, logger, name: service });
	return adapter;
}

interface NeDbResult {
	numAffected: number;
	affectedDocuments: unknown;
	upsert: boolean;
}

interface NeDbDatastore {
	insertAsync(doc: object | object[]): Promise<Record<string, unknown> & Record<string, unknown>[]>;
	findOneAsync(query: object): Promise<Record<string, unknown> | null>;
	countAsync(query: object): Promise<number>;
	updateAsync(query: object, update: object, opts: object): Promise<NeDbResult>;
	removeAsync(query: object, opts: object): Promise<number>;
	update: (query: object, update: object, opts: object) => Promise<unknown[]>;
}

interface NeDbCursor {
	execAsync(): Promise<Record<string, unknown>[]>;
}

/**
 * moleculer-db 0.9's memory adapter wraps NeDB 3 in `util.promisify` although NeDB 3 has a promise API of its
 * own: every call went through promisify around NeDB's own callbackify (and `update` printed a DEP0174 warning
 * with a stack trace each time: once a third of a checkout's CPU time), and `count` fetched and copied every
 * matching document to return their number. The adapter's methods call NeDB's promise API directly here, with
 * the results the adapter interface promises.
 */
function useNeDbPromiseApi(adapter: StoreAdapter): void {
	const db = adapter.db as NeDbDatastore | undefined;
	if (!db?.updateAsync || !db.insertAsync) return;
	const cursorOf = (adapter as unknown as { createCursor(filters: object): NeDbCursor }).createCursor.bind(adapter);
	db.update = (query, update, opts) => db.updateAsync(query, update, opts).then(r => [r.numAffected, r.affectedDocuments, r.upsert]);
	adapter.insert = entity => db.insertAsync(entity);
	adapter.insertMany = entities => db.insertAsync(entities);
	adapter.findOne = query => db.findOneAsync(query);
	adapter.findById = id => db.findOneAsync({ _id: id });
	adapter.find = filters => cursorOf(filters).execAsync();
	adapter.count = (filters = {}) => db.countAsync(filters.query ?? {});
	adapter.updateMany = (query, update) => db.updateAsync(query, update, { multi: true }).then(r => r.numAffected);
	adapter.updateById = (id, update) =>
		db.updateAsync({ _id: id }, update, { returnUpdatedDocs: true }).then(r => r.affectedDocuments as Record<string, unknown> | null);
	adapter.removeMany = query => db.removeAsync(query, { multi: true });
	adapter.removeById = id => db.removeAsync({ _id: id }, {});
}

interface MongoCollection {
	updateMany(query: object, update: object): Promise<{ matchedCount: number }>;
}

/**
 * moleculer-db-adapter-mongo's `updateMany` answers the number of documents the update *modified*, NeDB's the number
 * it *matched*: an update whose condition held but that left the document as it was (a `$set` of the value already
 * there, a `$pull` of nothing) counted 0 on MongoDB, which services read as "the condition did not hold". The
 * repository's contract is NeDB's (test/unit/mixins/db/storage-contract.spec.ts): the documents matched.
 */
function useMatchedCount(adapter: StoreAdapter): void {
	const collection = adapter.collection as MongoCollection;
	adapter.updateMany = (query, update) => collection.updateMany(query, update).then(r => r.matchedCount);
}

/** Connects an adapter and creates the indexes it declares. */
export async function connectAdapter(adapter: StoreAdapter, config: Config, indexes: IndexSpec[] = []): Promise<void> {
	await adapter.connect();
	if (config.mongoUrl) useMatchedCount(adapter);
	else useNeDbPromiseApi(adapter);
	// NeDB appends every write to its file; compact it once a minute.
	(adapter.db as { setAutocompactionInterval?(ms: number): void } | undefined)?.setAutocompactionInterval?.(60_000);
	await createIndexes(adapter, indexes);
}

/** Disconnects an adapter. */
export async function closeAdapter(adapter: StoreAdapter): Promise<void> {
	(adapter.db as { stopAutocompaction?(): void } | undefined)?.stopAutocompaction?.();
	await adapter.disconnect();
}
