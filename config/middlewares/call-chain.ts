/**
 * Records a CallRecord for every local action call and event delivery into this node's bounded buffer, and
 * creates the `$callchain` service (on every node, whatever SERVICES says) that answers them by trace id.
 * Retried attempts are separate calls, so they show as separate records.
 */
import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Context, Middleware, ServiceBroker, ServiceSchema } from "moleculer";
import { CALL_CHAIN_SERVICE, type CallRecord, type UpstreamCallsMeta } from "../../services/common/call-chain";
import { MESSAGE_BUS } from "../../services/common/behavior";
import { SpanBuffer, type SpanBufferOptions } from "./call-chain/span-buffer";

interface Locals {
	fault?: string;
}

/** The client's own request id, which the gateway keeps apart from the trace id (it is never a trace id). */
interface CorrelationMeta {
	correlation_id?: string;
}

/** A call record with the client's correlation id when the request carried one. */
export type CorrelatedCallRecord = CallRecord & { correlation?: string };

/** moleculer-web's request action: its record waits for the answer, so that it shows the status the client got. */
const GATEWAY_REQUEST_ACTION = "api.rest";

/** The HTTP-like status of a failed call: the error's code when it is one, 500 otherwise. */
export function statusOf(err: unknown): number {
	const code = (err as { code?: unknown } | null)?.code;
	return typeof code === "number" && code >= 400 && code < 600 ? code : 500;
}

function callChainService(buffer: SpanBuffer): ServiceSchema {
	return {
		name: CALL_CHAIN_SERVICE,
		actions: {
			/** The call records of one trace held by this node (collectCallChain asks every node). */
			spans: {
				visibility: "public",
				params: { trace_id: { type: "string", min: 1, max: 200 } },
				handler(ctx: Context<{ trace_id: string }>): CallRecord[] {
					return buffer.get(ctx.params.trace_id);
				},
			},
		},
	};
}

/** The call-chain middleware; one buffer per broker. */
export function CallChainMiddleware(opts: SpanBufferOptions = {}): Middleware {
	const buffer = new SpanBuffer(opts);
	let nodeID = "";

	function record(ctx: Context, base: Omit<CallRecord, "code" | "duration" | "node">, t0: number, err?: unknown, code?: number): void {
		const rec: CorrelatedCallRecord = {
			...base,
			code: code ?? (err === undefined ? 200 : statusOf(err)),
			duration: Math.round((performance.now() - t0) * 10) / 10,
			node: nodeID,
		};
		const correlation = (ctx.meta as CorrelationMeta | undefined)?.correlation_id;
		if (correlation) rec.correlation = correlation;
		const fault = (ctx.locals as Locals | undefined)?.fault;
		if (fault) rec.fault = fault;
		if (err !== undefined) {
			const type = (err as { type?: unknown }).type;
			if (typeof type === "string") rec.error_type = type;
		}
		buffer.add(ctx.requestID ?? ctx.id, rec);
		// An action call made under a context that collects its upstream calls (not an event delivery).
		if (base.kind === "action") (ctx.meta as UpstreamCallsMeta | undefined)?.$calls?.push(rec);
	}

	/**
	 * The gateway's request: moleculer-web sends an error after its request action has failed (and may map it to
	 * another status), so the record is made when the answer has gone out, with the status the client received.
	 */
	function wrapGatewayRequest(next: (ctx: Context) => Promise<unknown>, describe: (ctx: Context) => Omit<CallRecord, "code" | "duration" | "node">) {
		return async function recordedRequest(ctx: Context): Promise<unknown> {
			const t0 = performance.now();
			const base = describe(ctx);
			const res = (ctx.params as { res?: ServerResponse } | undefined)?.res;
			const recordAnswer = (err?: unknown): void => {
				if (!res || res.writableFinished) return record(ctx, base, t0, err, res?.statusCode);
				const done = (): void => {
					res.off("finish", done).off("close", done);
					// A client that went away before the answer: 499, as proxies log it.
					record(ctx, base, t0, err, res.writableFinished ? res.statusCode : 499);
				};
				res.on("finish", done).on("close", done);
			};
			try {
				const result = await next(ctx);
				recordAnswer();
				return result;
			} catch (err) {
				recordAnswer(err);
				throw err;
			}
		};
	}

	function wrap(next: (ctx: Context) => Promise<unknown>, describe: (ctx: Context) => Omit<CallRecord, "code" | "duration" | "node">) {
		return async function recordedCall(ctx: Context): Promise<unknown> {
			const t0 = performance.now();
			const base = describe(ctx);
			try {
				const res = await next(ctx);
				record(ctx, base, t0);
				return res;
			} catch (err) {
				record(ctx, base, t0, err);
				throw err;
			}
		};
	}

	return {
		name: "CallChain",

		created(broker: ServiceBroker) {
			nodeID = broker.nodeID;
			broker.createService(callChainService(buffer));
		},

		localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string; service?: { name: string } }) {
			const service = action.service?.name;
			if (!service || service.startsWith("$")) return next;
			return (action.name === GATEWAY_REQUEST_ACTION ? wrapGatewayRequest : wrap)(next, ctx => ({
				name: service,
				action: action.name,
				kind: "action",
				started_at: Date.now(),
				span_id: ctx.id,
				parent_id: ctx.parentID ?? null,
				trace_id: ctx.requestID ?? ctx.id,
				caller: ctx.caller ?? null,
			}));
		},

		/** A remote callee collects into an array of its own, appended to the caller's when the response is in. */
		remoteAction(next: (ctx: Context) => Promise<unknown>) {
			return function collectedRemoteCall(ctx: Context): Promise<unknown> {
				const meta = ctx.meta as UpstreamCallsMeta;
				const collected = meta.$calls;
				if (!Array.isArray(collected)) return next(ctx);
				// The request gets a meta of its own with an empty array for the callee's records (the transit puts it
				// in the packet before next() returns), so the caller's records never travel down. ctx keeps the
				// caller's meta, into which Moleculer merges the response's: a call that times out never settles
				// here and leaves the caller's records as they were.
				ctx.meta = { ...meta, $calls: [] };
				let pending: Promise<unknown>;
				try {
					pending = next(ctx);
				} finally {
					ctx.meta = meta;
				}
				return pending.finally(() => {
					const returned = meta.$calls;
					if (Array.isArray(returned) && returned !== collected) collected.push(...returned);
					meta.$calls = collected;
				});
			};
		},

		localEvent(next: (ctx: Context) => Promise<unknown>, event: { name: string; service?: { name: string } }) {
			const service = event.service?.name;
			if (!service || service.startsWith("$")) return next;
			return wrap(next, ctx => ({
				name: MESSAGE_BUS,
				action: ctx.eventName ?? event.name,
				consumer: service,
				kind: "event",
				started_at: Date.now(),
				span_id: ctx.id,
				// Durable events arrive in a fresh context: the publisher's call id travels in meta when it is known.
				parent_id: ctx.parentID ?? (ctx.meta as { $parentID?: string } | undefined)?.$parentID ?? null,
				trace_id: ctx.requestID ?? ctx.id,
				caller: ctx.caller ?? null,
			}));
		},
	} as unknown as Middleware;
}
