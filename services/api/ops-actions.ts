/**
 * The operations console's routes on the gateway (admins only, see services/api/routes.ts):
 * - `api.opsStream` (GET /admin/ops/stream): the live feed as server-sent events (ops-feed.ts). The console reads it
 *   with fetch() and its Authorization header, so no token ever sits in a URL (where access logs would keep it).
 * - `api.opsSnapshot` (GET /admin/ops/snapshot): the same snapshot once, as JSON.
 * - `api.chaosScenarios`, `api.chaosStart`, `api.chaosRun`: the playground (ops-chaos-run.ts), refused in production
 *   unless CHAOS_ENABLED=true, one run at a time, N checkouts bounded.
 */
import type { PassThrough } from "node:stream";
import type { ActionSchema, Context, Service } from "moleculer";
import { Errors } from "moleculer";
import type { Config } from "../../config/env";
import { SCENARIOS, scenarioById, type Scenario } from "../common/chaos-scenarios";
import { ConflictError, NotFoundError } from "../common/errors";
import { requireUser, type ShopMeta } from "../common/meta";
import { ChaosRun, type ChaosRunView } from "./ops-chaos-run";
import type { OpsFeed, OpsSnapshot } from "./ops-feed";

/** The most checkouts one playground run may place, and the most customers checking out at once. */
export const MAX_CHAOS_CHECKOUTS = 100;
export const MAX_CHAOS_CONCURRENCY = 8;
/** Finished runs kept for GET /admin/chaos/runs/:id. */
const KEPT_RUNS = 10;

/** 403: the playground injects faults, which this deployment refuses. */
export class ChaosDisabledError extends Errors.MoleculerClientError {
	constructor() {
		super("The chaos playground is disabled in production; set CHAOS_ENABLED=true to allow it", 403, "CHAOS_DISABLED");
	}
}

/** 503: this gateway has as many console streams open as it keeps. */
export class TooManyStreamsError extends Errors.MoleculerRetryableError {
	constructor(max: number) {
		super(`This gateway has ${max} console streams open already; try again later`, 503, "TOO_MANY_STREAMS");
	}
}

/** What the gateway keeps for the console: the feed and the playground's runs. */
export interface OpsState {
	opsFeed: OpsFeed;
	chaosRuns: { current: ChaosRun | null; finished: ChaosRunView[] };
}

interface StartParams {
	scenario: number;
	checkouts?: number;
	concurrency?: number;
}

type Ctx<P> = Context<P, ShopMeta>;

/** The gateway's console state (the api service creates it). */
const stateOf = (svc: Service): OpsState => svc as unknown as OpsState;

export function opsActions(config: Pick<Config, "behaviorEnabled">): Record<string, ActionSchema> {
	return {
		/** The console's live feed: server-sent events (snapshot every 2 s, checkout and chaos events as they happen). */
		opsStream: {
			roles: ["admin"],
			// The stream outlives the call that opened it; nothing to retry or time out.
			retryPolicy: { enabled: false },
			params: {},
			handler(this: Service): PassThrough {
				const { opsFeed } = stateOf(this);
				if (opsFeed.full) throw new TooManyStreamsError(opsFeed.consoles);
				return opsFeed.open();
			},
		},

		/** One snapshot of what the console shows: sagas, breakers, dead letters, outbox, charts, recent checkouts. */
		opsSnapshot: {
			roles: ["admin"],
			params: {},
			async handler(this: Service): Promise<OpsSnapshot> {
				return stateOf(this).opsFeed.snapshot();
			},
		},

		/** The seed's eight chaos scenarios, and whether the playground may run them here. */
		chaosScenarios: {
			roles: ["admin"],
			params: {},
			handler(this: Service): { enabled: boolean; max_checkouts: number; max_concurrency: number; rows: readonly Scenario[]; current: ChaosRunView | null } {
				const { chaosRuns } = stateOf(this);
				return {
					enabled: config.behaviorEnabled,
					max_checkouts: MAX_CHAOS_CHECKOUTS,
					max_concurrency: MAX_CHAOS_CONCURRENCY,
					rows: SCENARIOS,
					current: chaosRuns.current?.view ?? chaosRuns.finished[0] ?? null,
				};
			},
		},

		/** Starts a playground run of one scenario for N checkouts (202 with the run; progress on the stream). */
		chaosStart: {
			roles: ["admin"],
			params: {
				scenario: { type: "number", integer: true, min: 1, max: SCENARIOS.length, convert: true },
				checkouts: { type: "number", integer: true, min: 1, max: MAX_CHAOS_CHECKOUTS, optional: true, convert: true },
				concurrency: { type: "number", integer: true, min: 1, max: MAX_CHAOS_CONCURRENCY, optional: true, convert: true },
			},
			handler(this: Service, ctx: Ctx<StartParams>): ChaosRunView {
				if (!config.behaviorEnabled) throw new ChaosDisabledError();
				const { opsFeed, chaosRuns } = stateOf(this);
				const admin = requireUser(ctx.meta);
				const current = chaosRuns.current;
				if (current) throw new ConflictError(`Chaos run ${current.view.id} is still running`, "CHAOS_RUN_IN_PROGRESS", { run_id: current.view.id });
				const scenario = scenarioById(ctx.params.scenario) as Scenario;
				const run = new ChaosRun(ctx.broker, opsFeed, {
					scenario,
					checkouts: ctx.params.checkouts ?? 20,
					concurrency: ctx.params.concurrency ?? 4,
					admin,
				});
				chaosRuns.current = run;
				void run.run().then(view => {
					chaosRuns.current = null;
					chaosRuns.finished.unshift(view);
					chaosRuns.finished.splice(KEPT_RUNS);
				});
				ctx.meta.$statusCode = 202;
				ctx.meta.$responseHeaders = { Location: `/api/v1/admin/chaos/runs/${run.view.id}` };
				return run.view;
			},
		},

		/** A playground run by id: the one in progress or one of the last ten. */
		chaosRun: {
			roles: ["admin"],
			params: { id: { type: "string", min: 1, max: 100, trim: true } },
			handler(this: Service, ctx: Ctx<{ id: string }>): ChaosRunView {
				const { chaosRuns } = stateOf(this);
				const current = chaosRuns.current?.view;
				const view = current?.id === ctx.params.id ? current : chaosRuns.finished.find(r => r.id === ctx.params.id);
				if (!view) throw new NotFoundError("chaos run", ctx.params.id);
				return view;
			},
		},
	};
}
