/**
 * What a shipping event does to an order: order.shipped and order.delivered move it along the happy path, every
 * shipping event updates its shipments (one per shop); stale or repeated events change nothing. Pure code.
 */
import type { DomainEvent } from "../common/events";
import type { OrderDoc } from "./model";
import { mergeShipments, shipmentRefsOf } from "./shops";
import { advanceTo, isTerminal, type OrderStatus } from "./state-machine";

/** The order after a shipping event (the same object when it changes nothing); `target` null: only its shipments. */
export function applyShipmentReport(doc: OrderDoc, event: DomainEvent, target: OrderStatus | null, at: string): OrderDoc {
	// order.delivered comes once every parcel is delivered, whichever of their own events arrives first.
	const delivered = target === "DELIVERED" ? (doc.shipments ?? []).map(s => ({ ...s, status: "DELIVERED" })) : [];
	const shipments = mergeShipments(doc.shipments, [...shipmentRefsOf(event.shipments), ...delivered]);
	const moved = JSON.stringify(shipments) !== JSON.stringify(doc.shipments ?? []);
	if (target === null || doc.status === "COMPENSATING" || isTerminal(doc.status) || doc.saga.status === "COMPENSATING") return moved ? { ...doc, shipments } : doc;
	const next = advanceTo(doc, target, { at, reason: "reported by shipping" });
	if (next === doc && !moved) return doc;
	// order.shipped names the shipment; the other events name a parcel.
	const shipmentId = target === "SHIPPED" && typeof event.shipment_id === "string" ? event.shipment_id : null;
	return { ...next, shipments, shipment_id: doc.shipment_id ?? shipmentId, updated_at: next === doc ? doc.updated_at : (next.history.at(-1)?.at ?? doc.updated_at) };
}
