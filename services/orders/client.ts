/**
 * What other services may use of orders: the shapes of its actions' answers (orders.create and orders.byKey
 * answer an OrderResult) and the statuses and failure reasons an order can have.
 */
export type { OrderResult, PublicOrder, SagaOutcome, SagaSummary } from "./model";
export { FAILURE_REASONS, ORDER_STATUSES, type FailureReason, type OrderStatus } from "./state-machine";
