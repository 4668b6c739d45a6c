package io.quarkiverse.leader.it;

import java.util.List;

/**
 * The payload of the {@code shipments} channel: a record holding other records, which Jackson reads by reflection.
 */
public record Shipment(String id, Address destination, List<Parcel> parcels) {

    /** Where a shipment goes. */
    public record Address(String city, String country) {
    }

    /** One parcel of a shipment. */
    public record Parcel(String label, int grams) {
    }
}
