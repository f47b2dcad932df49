/**
 * What other services may use of `cart`: the cart `cart.getForCheckout` and `cart.clearFor` answer, and the
 * catalog row (price and stock facts of `products.getMany`) a cart is priced with.
 */
export type { CheckoutCart } from "../cart.service";
export type { CatalogRow } from "./model";
