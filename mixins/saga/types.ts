/**
 * The shapes of the saga engine (engine.ts): a saga's definition and steps, the state that is stored after every
 * change, and the engine's options and per-run hooks.
 */

export type StepStatus = "PENDING" | "RUNNING" | "DONE" | "FAILED" | "COMPENSATING" | "COMPENSATED";
export type SagaStatus = "RUNNING" | "COMPENSATING" | "COMPLETED" | "COMPENSATED";
/** business: the answer is final (declined, out of stock); technical: timeouts, 5xx, open circuits. */
export type FailureKind = "business" | "technical";

export interface StepError {
	code: number;
	type: string;
	message: string;
	retryable: boolean;
	kind: FailureKind;
	/** False when the call certainly never reached its target (no endpoint, open circuit, full queue). */
	reached: boolean;
	data?: unknown;
}

export interface StepRecord {
	name: string;
	status: StepStatus;
	idempotency_key: string;
	attempts: number;
	compensation_attempts: number;
	started_at: string | null;
	finished_at: string | null;
	/** Milliseconds of the last forward attempt. */
	duration: number;
	/** Milliseconds of the successful compensation. */
	compensation_duration: number;
	result?: unknown;
	error?: StepError;
	compensation_error?: StepError;
}

export interface SagaState<D = unknown> {
	id: string;
	name: string;
	status: SagaStatus;
	data: D;
	steps: StepRecord[];
	failed_step: string | null;
	/** Why the saga was asked to undo itself without a failing step (e.g. "CANCELLED"). */
	abort_reason: string | null;
	error: StepError | null;
	created_at: string;
	updated_at: string;
	finished_at: string | null;
}

export interface StepContext<D> {
	sagaId: string;
	step: string;
	/** `<saga id>:<step>` for the action, `<saga id>:<step>:compensate` for the compensation. */
	idempotencyKey: string;
	data: D;
	/** Results of the steps that completed, by step name. */
	results: Record<string, unknown>;
	attempt: number;
}

export interface SagaStep<D> {
	name: string;
	action(ctx: StepContext<D>): Promise<unknown>;
	/** Undoes the action; must be idempotent and accept "nothing to undo". */
	compensation?(ctx: StepContext<D>): Promise<unknown>;
}

export interface SagaDefinition<D> {
	name: string;
	steps: SagaStep<D>[];
}

export interface BackoffOptions {
	initialMs: number;
	maxMs: number;
	factor: number;
}

export interface SagaEngineOptions<D> {
	/** Persists the state; called after every change. A failing save is retried with back-off. */
	save(state: SagaState<D>): Promise<void>;
	/** Back-off between compensation (and save) attempts. */
	backoff?: Partial<BackoffOptions>;
	/** Upper bound of one step or compensation attempt, in ms (none when unset). */
	attemptTimeoutMs?: number;
	now?(): number;
	/** Told about every failed compensation or save attempt (for logs). */
	onRetry?(what: string, err: unknown, attempt: number, state: SagaState<D>): void;
}

/** Per-run hooks: cancellation requests and loss of ownership. */
export interface RunControl<D> {
	/** A reason to stop going forward and compensate instead, checked before each step. */
	shouldAbort?(state: SagaState<D>): Promise<string | null> | string | null;
	/** True when this run must stop at the next boundary (e.g. its lease was lost). */
	isStopped?(): boolean;
}
