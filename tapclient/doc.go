// Package tapclient speaks the tap.linkerd.io API (linkerd-viz tap) directly
// through the Kubernetes API server's aggregation layer: it builds the
// TapByResourceRequest body, POSTs it to the watch URL, and decodes the
// length-framed TapEvent stream into small Go values.
//
// Nothing here shells out to linkerd or imports linkerd2; the protobuf wire
// format is written and read by hand with protowire, following
// shared/reference/tap-api.md. It holds only the client side; the server
// side (encoding events, decoding requests) used by the test tap server is
// internal/tapwire.
package tapclient
