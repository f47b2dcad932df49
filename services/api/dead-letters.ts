/**
 * Admin views of the dead-letter store through the gateway: `api.deadLetters`, `api.redriveDeadLetter`.
 * Owned by the durable-events work (issue 4).
 */
import type { ActionSchema } from "moleculer";

export const deadLetterActions: Record<string, ActionSchema> = {};
