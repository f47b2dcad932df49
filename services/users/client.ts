/**
 * What other services may use of `users`: the answer of `users.resolveCheckout` and the address schema that
 * checkout validates a shipping address against before it asks.
 */
export type { CheckoutDetails } from "../users.service";
export { addressParams } from "./params";
