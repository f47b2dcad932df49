/**
 * A generic saga engine in pure code (no Moleculer): a saga is a list of steps `{name, action, compensation}`
 * run in order; when one fails, the compensations of the completed steps run in reverse order. A compensation
 * that fails is retried with back-off until it succeeds (each attempt bounded, the whole unbounded, but the
 * engine can be stopped for shutdown). The state is handed to `save` after every change, so a stored state can
 * be resumed: a step that was RUNNING is run again with the same idempotency key (steps are idempotent).
 */
import type { SagaStatus, StepError, StepRecord, SagaState, StepContext, SagaStep, SagaDefinition, BackoffOptions, SagaEngineOptions, RunControl } from "./types";

export type * from "./types";

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000, factor: 2 };

/** The wait before retry number `attempt` (1-based): initial * factor^(attempt-1), capped at max. */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
	return Math.min(opts.maxMs, Math.round(opts.initialMs * Math.pow(opts.factor, Math.max(0, attempt - 1))));
}

/** Error types of calls that never reached a handler: nothing happened, so nothing needs undoing. */
export const UNREACHED_TYPES: ReadonlySet<string> = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE", "REQUEST_SKIPPED", "QUEUE_FULL"]);

/** Business when the error is not retryable and below 500; technical otherwise (including plain errors). */
export function classifyError(err: unknown): StepError {
	const e = (err ?? {}) as { code?: unknown; type?: unknown; name?: unknown; message?: unknown; retryable?: unknown; data?: unknown; reached_before?: unknown };
	const code = typeof e.code === "number" && e.code >= 100 && e.code < 600 ? e.code : 500;
	const retryable = e.retryable === true;
	const out: StepError = {
		code,
		type: typeof e.type === "string" && e.type ? e.type : typeof e.name === "string" ? e.name : "ERROR",
		message: typeof e.message === "string" ? e.message : String(err),
		retryable,
		kind: !retryable && code < 500 ? "business" : "technical",
		// "Never reached" counts only when no earlier try may have reached (mixins/saga/calls.ts marks those).
		reached: e.reached_before === true || !(typeof e.type === "string" && UNREACHED_TYPES.has(e.type)),
	};
	if (e.data !== undefined) out.data = e.data;
	return out;
}

export function isTerminalSaga(status: SagaStatus): boolean {
	return status === "COMPLETED" || status === "COMPENSATED";
}

/** The idempotency key of a step call (or of its compensation). */
export function stepKey(sagaId: string, step: string, compensate = false): string {
	return compensate ? `${sagaId}:${step}:compensate` : `${sagaId}:${step}`;
}

/** A fresh saga state with every step PENDING. */
export function createSagaState<D>(def: SagaDefinition<D>, id: string, data: D, now = Date.now()): SagaState<D> {
	const at = new Date(now).toISOString();
	return {
		id,
		name: def.name,
		status: "RUNNING",
		data,
		steps: def.steps.map(s => ({
			name: s.name,
			status: "PENDING",
			idempotency_key: stepKey(id, s.name),
			attempts: 0,
			compensation_attempts: 0,
			started_at: null,
			finished_at: null,
			duration: 0,
			compensation_duration: 0,
		})),
		failed_step: null,
		abort_reason: null,
		error: null,
		created_at: at,
		updated_at: at,
		finished_at: null,
	};
}

class AttemptTimeoutError extends Error {
	readonly code = 504;
	readonly type = "STEP_TIMEOUT";
	readonly retryable = true;
	constructor(what: string, ms: number) {
		super(`${what} did not answer within ${ms} ms`);
	}
}

/** Whether a step still has something to undo when the saga compensates. */
function needsCompensation(rec: StepRecord): boolean {
	if (rec.status === "DONE" || rec.status === "COMPENSATING" || rec.status === "RUNNING") return true;
	// A technical failure leaves the outcome unknown (a timed-out charge may have gone through): undo it too,
	// unless the call never reached its target.
	return rec.status === "FAILED" && rec.error?.kind === "technical" && rec.error.reached !== false;
}

export class SagaEngine<D> {
	private stopped = false;
	private readonly wakers = new Set<() => void>();
	private readonly backoff: BackoffOptions;

	constructor(private readonly opts: SagaEngineOptions<D>) {
		this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
	}

	/** Stops every run at its next boundary (between calls, or during a back-off wait). */
	stop(): void {
		this.stopped = true;
		for (const wake of this.wakers) wake();
		this.wakers.clear();
	}

	get isStopped(): boolean {
		return this.stopped;
	}

	/**
	 * Runs (or resumes) a saga until it is COMPLETED or COMPENSATED, or until the engine or the run is stopped;
	 * returns the last state (not terminal when stopped).
	 */
	async run(def: SagaDefinition<D>, state: SagaState<D>, control: RunControl<D> = {}): Promise<SagaState<D>> {
		const halted = (): boolean => this.stopped || control.isStopped?.() === true;
		while (state.status === "RUNNING") {
			if (halted()) return state;
			const rec = state.steps.find(s => s.status !== "DONE");
			if (!rec) {
				state.status = "COMPLETED";
				state.finished_at = this.iso();
				if (!(await this.persist(state, halted))) return state;
				return state;
			}
			if (rec.status === "FAILED" || rec.status === "COMPENSATING" || rec.status === "COMPENSATED") {
				state.status = "COMPENSATING";
				if (!(await this.persist(state, halted))) return state;
				break;
			}
			const abort = await Promise.resolve(control.shouldAbort?.(state)).catch(() => null); // unknown: go on
			if (abort) {
				state.abort_reason = abort;
				state.status = "COMPENSATING";
				if (!(await this.persist(state, halted))) return state;
				break;
			}
			await this.runStep(def, state, rec, halted);
			if (halted() && state.status === "RUNNING" && rec.status === "RUNNING") return state;
		}
		return this.compensate(def, state, halted);
	}

	private async runStep(def: SagaDefinition<D>, state: SagaState<D>, rec: StepRecord, halted: () => boolean): Promise<void> {
		const step = this.stepOf(def, rec.name);
		rec.status = "RUNNING";
		rec.attempts += 1;
		rec.started_at = this.iso();
		if (!(await this.persist(state, halted))) return;
		const t0 = this.now();
		try {
			const result = await this.bounded(step.action(this.stepContext(state, rec, false)), `step '${rec.name}'`);
			rec.status = "DONE";
			rec.result = result;
			delete rec.error;
		} catch (err) {
			rec.status = "FAILED";
			rec.error = classifyError(err);
			state.failed_step = rec.name;
			state.error = rec.error;
			state.status = "COMPENSATING";
		}
		rec.duration = this.now() - t0;
		rec.finished_at = this.iso();
		await this.persist(state, halted);
	}

	private async compensate(def: SagaDefinition<D>, state: SagaState<D>, halted: () => boolean): Promise<SagaState<D>> {
		while (state.status === "COMPENSATING") {
			if (halted()) return state;
			const rec = [...state.steps].reverse().find(needsCompensation);
			if (!rec) {
				state.status = "COMPENSATED";
				state.finished_at = this.iso();
				await this.persist(state, halted);
				return state;
			}
			const step = this.stepOf(def, rec.name);
			if (!step.compensation) {
				rec.status = "COMPENSATED";
				if (!(await this.persist(state, halted))) return state;
				continue;
			}
			rec.status = "COMPENSATING";
			if (!(await this.persist(state, halted))) return state;
			const t0 = this.now();
			for (;;) {
				if (halted()) return state;
				rec.compensation_attempts += 1;
				try {
					await this.bounded(step.compensation(this.stepContext(state, rec, true)), `compensation of '${rec.name}'`);
					rec.status = "COMPENSATED";
					rec.compensation_duration = this.now() - t0;
					delete rec.compensation_error;
					break;
				} catch (err) {
					rec.compensation_error = classifyError(err);
					this.opts.onRetry?.(`compensation of '${rec.name}'`, err, rec.compensation_attempts, state);
					if (!(await this.persist(state, halted))) return state;
					await this.sleep(backoffDelay(rec.compensation_attempts, this.backoff));
				}
			}
			if (!(await this.persist(state, halted))) return state;
		}
		return state;
	}

	/** Saves the state, retrying with back-off; false when stopped before it could be saved. */
	private async persist(state: SagaState<D>, halted: () => boolean): Promise<boolean> {
		state.updated_at = this.iso();
		for (let attempt = 1; ; attempt++) {
			try {
				await this.opts.save(state);
				return true;
			} catch (err) {
				this.opts.onRetry?.("save", err, attempt, state);
				if (halted()) return false;
				await this.sleep(backoffDelay(attempt, this.backoff));
				if (halted()) return false;
			}
		}
	}

	private stepContext(state: SagaState<D>, rec: StepRecord, compensate: boolean): StepContext<D> {
		const results: Record<string, unknown> = {};
		for (const s of state.steps) if (s.result !== undefined) results[s.name] = s.result;
		return {
			sagaId: state.id,
			step: rec.name,
			idempotencyKey: stepKey(state.id, rec.name, compensate),
			data: state.data,
			results,
			attempt: compensate ? rec.compensation_attempts : rec.attempts,
		};
	}

	private stepOf(def: SagaDefinition<D>, name: string): SagaStep<D> {
		const step = def.steps.find(s => s.name === name);
		if (!step) throw new Error(`saga '${def.name}' has no step '${name}'`);
		return step;
	}

	/** The promise, or a retryable timeout error after attemptTimeoutMs. */
	private bounded<T>(promise: Promise<T>, what: string): Promise<T> {
		const ms = this.opts.attemptTimeoutMs;
		if (!ms) return promise;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new AttemptTimeoutError(what, ms)), ms);
		});
		return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
	}

	/** Waits, or returns early when the engine is stopped. */
	private sleep(ms: number): Promise<void> {
		if (this.stopped) return Promise.resolve();
		return new Promise(resolve => {
			const wake = (): void => {
				clearTimeout(timer);
				this.wakers.delete(wake);
				resolve();
			};
			const timer = setTimeout(wake, ms);
			this.wakers.add(wake);
		});
	}

	private now(): number {
		return this.opts.now ? this.opts.now() : Date.now();
	}

	private iso(): string {
		return new Date(this.now()).toISOString();
	}
}
