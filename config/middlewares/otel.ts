/**
 * OpenTelemetry spans through `@opentelemetry/api` for every action call, event delivery and gateway request.
 * Without a registered SDK the API is a no-op; with one, a request becomes one trace across nodes: the caller's
 * span context travels in `ctx.meta.otel` as a W3C traceparent, and the gateway continues an incoming
 * `traceparent` header.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
	ROOT_CONTEXT,
	SpanKind,
	SpanStatusCode,
	context as otelContext,
	isSpanContextValid,
	trace,
	type Context as OtelContext,
	type Span,
	type SpanContext,
} from "@opentelemetry/api";
import type { Context, Middleware, ServiceBroker } from "moleculer";
import { statusOf } from "./call-chain";
import { isInjectedFault } from "./behavior";

export const TRACER_NAME = "shopflow";

interface OtelMeta {
	otel?: string;
}
interface Locals {
	fault?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context of a W3C traceparent, or null when it is not one. */
export function parseTraceparent(value: unknown): SpanContext | null {
	if (typeof value !== "string") return null;
	const m = TRACEPARENT.exec(value.trim().toLowerCase());
	if (!m) return null;
	const sc: SpanContext = { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true };
	return isSpanContextValid(sc) ? sc : null;
}

/** The W3C traceparent of a span context. */
export function formatTraceparent(sc: SpanContext): string {
	return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

function parentContext(traceparent: unknown): OtelContext {
	const sc = parseTraceparent(traceparent);
	return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** Runs a handler inside a span whose context children inherit through `ctx.meta.otel`. */
async function inSpan(
	ctx: Context,
	span: Span,
	parent: OtelContext,
	next: (ctx: Context) => Promise<unknown>,
	endWhen?: (end: () => void) => void,
): Promise<unknown> {
	const meta = ctx.meta as OtelMeta;
	const incoming = meta.otel;
	const sc = span.spanContext();
	if (isSpanContextValid(sc)) meta.otel = formatTraceparent(sc);
	try {
		const res = await otelContext.with(trace.setSpan(parent, span), () => next(ctx));
		const fault = (ctx.locals as Locals | undefined)?.fault;
		if (fault) span.setAttribute("shopflow.fault", fault);
		span.setStatus({ code: SpanStatusCode.OK });
		return res;
	} catch (err) {
		const fault = (ctx.locals as Locals | undefined)?.fault;
		if (fault) span.setAttribute("shopflow.fault", fault);
		span.setAttribute("shopflow.status_code", statusOf(err));
		if (isInjectedFault(err)) span.setAttribute("shopflow.injected", true);
		span.recordException(err as Error);
		span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
		throw err;
	} finally {
		if (endWhen) endWhen(() => span.end());
		else span.end();
		// Moleculer merges a callee's meta back into the caller's: leave the caller's span context as it was.
		if (incoming === undefined) delete meta.otel;
		else meta.otel = incoming;
	}
}

/** The OpenTelemetry middleware. */
export function OpenTelemetryMiddleware(): Middleware {
	let nodeID = "";

	return {
		name: "OpenTelemetry",

		created(broker: ServiceBroker) {
			nodeID = broker.nodeID;
		},

		localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string; service?: { name: string } }) {
			const service = action.service?.name;
			if (!service || service.startsWith("$")) return next;
			const isGateway = service === "api" && action.name === "api.rest";
			return function otelAction(ctx: Context): Promise<unknown> {
				const tracer = trace.getTracer(TRACER_NAME);
				const attributes = {
					"rpc.system": "moleculer",
					"rpc.service": service,
					"rpc.method": action.name,
					"moleculer.node_id": nodeID,
					"moleculer.request_id": ctx.requestID ?? ctx.id,
					"moleculer.caller": ctx.caller ?? "",
				};
				if (isGateway) {
					const { req, res } = (ctx.params ?? {}) as { req?: IncomingMessage; res?: ServerResponse };
					const parent = parentContext(req?.headers.traceparent);
					const path = (req?.url ?? "").split("?")[0];
					const span = tracer.startSpan(`${req?.method ?? "HTTP"} ${path}`, {
						kind: SpanKind.SERVER,
						attributes: { ...attributes, "http.request.method": req?.method ?? "", "url.path": path },
					}, parent);
					// On failure the gateway answers (with a status it may map) after this action has ended: the span ends
					// with the answer, showing the status the client received (499: the client left first).
					return inSpan(ctx, span, parent, next, end => {
						const answered = (): void => {
							res?.off("finish", answered).off("close", answered);
							span.setAttribute("http.response.status_code", !res || res.writableFinished ? (res?.statusCode ?? 200) : 499);
							end();
						};
						if (!res || res.writableFinished) answered();
						else res.on("finish", answered).on("close", answered);
					});
				}
				const parent = parentContext((ctx.meta as OtelMeta).otel);
				const span = tracer.startSpan(action.name, { kind: SpanKind.SERVER, attributes }, parent);
				return inSpan(ctx, span, parent, next);
			};
		},

		localEvent(next: (ctx: Context) => Promise<unknown>, event: { name: string; service?: { name: string } }) {
			const service = event.service?.name;
			if (!service || service.startsWith("$")) return next;
			return function otelEvent(ctx: Context): Promise<unknown> {
				const parent = parentContext((ctx.meta as OtelMeta).otel);
				const name = ctx.eventName ?? event.name;
				const span = trace.getTracer(TRACER_NAME).startSpan(`${name} → ${service}`, {
					kind: SpanKind.CONSUMER,
					attributes: {
						"messaging.system": "moleculer",
						"messaging.destination.name": name,
						"messaging.consumer.group.name": service,
						"moleculer.node_id": nodeID,
						"moleculer.request_id": ctx.requestID ?? ctx.id,
					},
				}, parent);
				return inSpan(ctx, span, parent, next);
			};
		},
	} as unknown as Middleware;
}
