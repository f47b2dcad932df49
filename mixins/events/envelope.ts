/**
 * The envelope of every domain event, `{id, type, version, occurred_at, producer, trace_id, data, signature}`
 * (docs/events.md): its schema checks and its HMAC-SHA256 signature. An EventMessage (policy.ts)
 * carries the envelope under the machinery's own field names (`event_id` is `id`, `name` is `type`, `source` is
 * `producer`, `event` is `data` with `event_id` and `occurred_at`), which outbox rows, staged events and dead letters
 * keep; on JetStream the envelope travels as it is named here (toWire/fromWire).
 *
 * Each type's schema is compiled once, at the first event of the type; a signature is one HMAC over the canonical
 * JSON of the envelope without its signature (keys sorted), so it survives any store and the bus.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Validators } from "moleculer";
import { eventSchemaOf, isSignedType } from "../../services/common/event-schemas";
import type { EventMessage } from "./policy";

/** The envelope as docs/events.md names it, and as it travels on JetStream. */
export interface Envelope {
	id: string;
	type: string;
	version: number;
	occurred_at: string;
	producer: string;
	trace_id: string | null;
	data: Record<string, unknown>;
	/** `hs256:<key id>:<mac>`, or null for a type that is not signed. */
	signature: string | null;
}

/** Why a consumer refused an event: it is dead-lettered with this reason and never applied. */
export type RejectReason = "SCHEMA_INVALID" | "SIGNATURE_INVALID";

export interface Rejection {
	reason: RejectReason;
	detail: string;
}

/** A publisher's bug: the event does not match its type's schema, or its type has none. Thrown, never caught. */
export class EventSchemaError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "EventSchemaError";
	}
}

const SIGNATURE_SCHEME = "hs256";
const ENVELOPE_FIELDS = new Set(["event_id", "occurred_at"]);

type Check = (value: unknown) => true | Array<{ message?: string; field?: string }>;
/** Moleculer's fastest-validator, which compiles a copy of each schema (fastest-validator edits what it compiles). */
const validator = new Validators.Fastest();
const compiled = new Map<string, Check>();

const checkEnvelope = validator.compile({
	$$root: true,
	type: "object",
	props: {
		event_id: { type: "string", min: 1, max: 200 },
		name: { type: "string", min: 1, max: 200 },
		source: { type: "string", min: 1, max: 200 },
		version: { type: "number", integer: true, min: 1 },
		trace_id: { type: "string", max: 200, nullable: true, optional: true },
		signature: { type: "string", max: 300, nullable: true, optional: true },
		event: { type: "object", props: { event_id: { type: "string", min: 1 }, occurred_at: { type: "string", min: 10, max: 40 } } },
	},
}) as Check;

/** The compiled check of a type's data, or null for an undeclared type. */
function dataCheck(type: string): Check | null {
	let check = compiled.get(type);
	if (!check) {
		const schema = eventSchemaOf(type);
		if (!schema) return null;
		check = validator.compile({ $$root: true, type: "object", props: schema.data }) as Check;
		compiled.set(type, check);
	}
	return check;
}

function describe(errors: Array<{ message?: string; field?: string }>): string {
	return errors
		.slice(0, 5)
		.map(e => e.message ?? e.field ?? "invalid")
		.join("; ");
}

/** The payload without the envelope fields stamped on it (`event_id`, `occurred_at`). */
export function dataOf(event: Record<string, unknown>): Record<string, unknown> {
	const data: Record<string, unknown> = {};
	for (const key of Object.keys(event)) if (!ENVELOPE_FIELDS.has(key)) data[key] = event[key];
	return data;
}

/** JSON with object keys sorted (undefined members left out, `toJSON` honoured), the same bytes before and after any store. */
export function canonicalJson(value: unknown): string {
	if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function")
		return canonicalJson((value as { toJSON(): unknown }).toJSON());
	if (Array.isArray(value)) return `[${value.map(v => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`;
	if (value !== null && typeof value === "object") {
		const obj = value as Record<string, unknown>;
		const parts: string[] = [];
		for (const key of Object.keys(obj).sort()) {
			const v = obj[key];
			if (v === undefined || typeof v === "function") continue;
			parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
		}
		return `{${parts.join(",")}}`;
	}
	return JSON.stringify(value) ?? "null";
}

/** The envelope of a message, with the fields named as docs/events.md names them. */
export function envelopeOf(m: EventMessage): Envelope {
	return {
		id: m.event_id,
		type: m.name,
		version: m.version ?? 0,
		occurred_at: m.event.occurred_at,
		producer: m.source,
		trace_id: m.trace_id ?? null,
		data: dataOf(m.event),
		signature: m.signature ?? null,
	};
}

/** The bytes a signature covers: the envelope without its signature. */
function signedText(m: EventMessage): string {
	const { signature: _unsigned, ...rest } = envelopeOf(m);
	return canonicalJson(rest);
}

/** A short public id of a key (the start of its SHA-256), so a verifier names the key an event was signed with. */
export function keyId(key: string): string {
	return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

function mac(key: string, text: string): Buffer {
	return createHmac("sha256", key).update(text).digest();
}

/** Signs envelopes with the first key and accepts any of them (rotation: docs/events.md). */
export class EnvelopeKeys {
	private readonly keys: Array<{ id: string; key: string }>;

	constructor(keys: string[]) {
		if (keys.length === 0) throw new Error("events: no signing key");
		this.keys = keys.map(key => ({ id: keyId(key), key }));
	}

	sign(m: EventMessage): string {
		const { id, key } = this.keys[0];
		return `${SIGNATURE_SCHEME}:${id}:${mac(key, signedText(m)).toString("base64url")}`;
	}

	/** Null when the signature is valid, else why not. */
	verify(m: EventMessage): string | null {
		const sig = m.signature;
		if (typeof sig !== "string" || sig === "") return "unsigned";
		const [scheme, kid, value, ...extra] = sig.split(":");
		if (scheme !== SIGNATURE_SCHEME || !kid || !value || extra.length > 0) return "malformed signature";
		const key = this.keys.find(k => k.id === kid);
		if (!key) return `signed with key ${kid}, which this node does not accept`;
		const given = Buffer.from(value, "base64url");
		const expected = mac(key.key, signedText(m));
		return given.length === expected.length && timingSafeEqual(given, expected) ? null : "signature does not match";
	}

	/**
	 * Completes a new message's envelope: its type's version, its signature when the type is signed. Throws an
	 * EventSchemaError for an undeclared type or data that does not match the schema: a publisher's bug.
	 */
	seal<E extends object>(m: EventMessage<E>): EventMessage<E> {
		const schema = eventSchemaOf(m.name);
		if (!schema) throw new EventSchemaError(`unknown event type '${m.name}': declare its schema in services/common/event-schemas.ts`);
		const res = dataCheck(m.name)!(m.event);
		if (res !== true) throw new EventSchemaError(`${m.source} published an invalid ${m.name}: ${describe(res)}`);
		const sealed: EventMessage<E> = { ...m, version: schema.version, trace_id: m.trace_id ?? null, signature: null };
		if (isSignedType(m.name)) sealed.signature = this.sign(sealed as unknown as EventMessage);
		return sealed;
	}

	/** Seals a message stored before envelopes existed (outbox rows, staged events, dead letters); as it was if invalid. */
	sealLegacy(m: EventMessage): EventMessage {
		if (m.version !== undefined) return m;
		try {
			return this.seal(m);
		} catch {
			// Consumers refuse it with SCHEMA_INVALID, where an admin sees it.
			return m;
		}
	}

	/** Checks a consumed message: its envelope, its signature (signed types) and its data; null when it may be applied. */
	check(m: EventMessage): Rejection | null {
		const env = checkEnvelope(m);
		if (env !== true) return { reason: "SCHEMA_INVALID", detail: `not an event envelope: ${describe(env)}` };
		const check = dataCheck(m.name);
		if (!check) return { reason: "SCHEMA_INVALID", detail: `unknown event type '${m.name}'` };
		if (isSignedType(m.name)) {
			const bad = this.verify(m);
			if (bad) return { reason: "SIGNATURE_INVALID", detail: `${m.name} ${bad}` };
		}
		const res = check(m.event);
		if (res !== true) return { reason: "SCHEMA_INVALID", detail: `${m.name}: ${describe(res)}` };
		return null;
	}
}

/** The JSON a message travels as on JetStream: the envelope, plus the publisher's behavior rules and request id. */
export function toWire(m: EventMessage): Envelope & { meta: EventMessage["meta"]; created_at: string } {
	return { ...envelopeOf(m), version: m.version ?? 0, meta: m.meta, created_at: m.created_at };
}

/** A message from what JetStream carried: an envelope, or a message of a node of an earlier version. */
export function fromWire(raw: unknown, subjectType: string): EventMessage {
	const w = (raw ?? {}) as Partial<Envelope> & Partial<EventMessage>;
	if (w.event !== undefined && w.event_id !== undefined) return w as EventMessage;
	const data = w.data !== null && typeof w.data === "object" && !Array.isArray(w.data) ? w.data : {};
	const message: EventMessage = {
		event_id: w.id as string,
		name: typeof w.type === "string" ? w.type : subjectType,
		source: w.producer as string,
		event: { ...data, event_id: w.id as string, occurred_at: w.occurred_at as string },
		meta: w.meta !== null && typeof w.meta === "object" ? w.meta : {},
		created_at: typeof w.created_at === "string" ? w.created_at : String(w.occurred_at),
		version: w.version,
		trace_id: w.trace_id,
		signature: w.signature,
	};
	// Data that is not an object is kept as it came, so the schema check refuses it.
	if (data !== w.data) (message as { event: unknown }).event = w.data;
	return message;
}
