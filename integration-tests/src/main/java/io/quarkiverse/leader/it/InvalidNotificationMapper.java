package io.quarkiverse.leader.it;

import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

public class InvalidNotificationMapper {

    /** notify rejects an invalid channel or an oversize payload before sending: that is the caller's mistake. */
    @ServerExceptionMapper
    public Response invalidNotification(IllegalArgumentException e) {
        return Response.status(Response.Status.BAD_REQUEST).entity(e.getMessage()).build();
    }
}
