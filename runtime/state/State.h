//===- runtime/state/State.h - The state of stateful NF elements ----------------------*- C++ -*-===//
///
/// \file
/// One object per stateful element instance (per chain node and element), used by both the
/// reference interpreter and the synthesized-table executor so that their choices (NAPT ports,
/// LB backends) are made by one definition. Time is the packet's timestamp (pcap time), never
/// the wall clock: runs are deterministic. The exact behaviour of each element is documented in
/// man/metron-lang.7 (NETWORK FUNCTIONS) and here.
///
/// Rules common to every element:
///
///  * Element time. Each element keeps its own clock: the largest Packet::timestampNs it has
///    seen. A packet whose timestamp is earlier than that (a capture going backwards) is
///    processed at the element's time, so time never runs backwards and no interval is
///    negative.
///
///  * Idle timeouts (Napt, Monitor, Conntrack). An entry last used at time t is live at time
///    `now` while now - t < timeout; at now - t >= timeout it has expired and is removed before
///    the packet at `now` is looked at (its NAPT port is free again, a later packet of the flow
///    starts a new entry). Packets that find their entry refresh t (both directions for Napt
///    and Conntrack).
///
///  * Keys are read from the field vector (Packet::get), i.e. the packet as the elements before
///    this one left it. "The 5-tuple" is (ip.proto, ip.src, ip.dst, tp.src, tp.dst); a frame
///    that is not IPv4 has a 5-tuple of zeros. Whether a packet *is* IPv4, TCP or UDP comes from
///    its frame (Packet::layout()): an IPv4 packet "has ports" when its TCP or UDP header is in
///    the frame (Layout::tcp / Layout::udp), which excludes fragments after the first and
///    headers cut short.
///
///  * Counters (counters()) are cumulative over the run except those said to be live, which
///    count the entries live at the element's time.
///
/// The elements:
///
///  Napt — network address and port translation. Let A be the translated side (source for
///  `napt ip.src`: ip.src and tp.src; destination for `napt ip.dst`: ip.dst and tp.dst) and B
///  the other side. Ports come from one pool [portLo, portHi] shared by TCP and UDP: a port
///  belongs to at most one live mapping. For an IPv4 packet with ports:
///   1. Return traffic: when B's address equals `address`, B's port is the port of a live
///      mapping m, ip.proto equals m's protocol, and A's (address, port) equal m's original
///      B (address, port), B's address and port are rewritten to m's original A address and
///      port ("translated back"); m is refreshed.
///   2. Otherwise the packet is forward traffic of the flow keyed by its 5-tuple. A flow with a
///      live mapping is rewritten to (address, its port). A new flow is given the first free
///      port at or after a cursor that cycles through portLo..portHi (the first flow of a run
///      gets portLo; after giving port P the cursor moves to P+1, wrapping to portLo after
///      portHi), and rewritten. When every port of the range belongs to a live mapping the
///      packet is dropped (counted in "dropped").
///  Other IPv4 packets (ICMP, other protocols, TCP/UDP without their header in the frame) get
///  A's address rewritten only: no port, no mapping, no return translation. Frames that are not
///  IPv4 pass untouched. Rewrites go through Packet::set (checksums stay correct). Counters: in,
///  translated (forward rewrites, address-only ones included), returned, dropped, mappings
///  (live), allocated (mappings created over the run).
///
///  Balance — per-flow load balancing. Every packet (IPv4 or not) belongs to the flow of its
///  5-tuple, read before the element writes. The first packet of a flow picks a backend:
///  round_robin gives the backends in turn, in list order (first flow: the first backend);
///  hash picks backends[flowHash(5-tuple) % n] (see flowHash below). The choice is kept for the
///  whole run (the language has no timeout for it), and every packet of the flow gets the
///  backend's value written into the field through Packet::set. Counters: in, flows, then one
///  per backend in list order, "backend[i]=VALUE" (i 1-based): the packets sent to it.
///
///  Monitor — per-flow packet and byte counters, keyed on the key fields (the 5-tuple when the
///  key is empty). Bytes are Packet::wireLen. Entries expire after timeoutSec of idleness; a
///  later packet of the key starts from zero. Never drops, never writes. Counters: in, flows
///  (live), expired (entries removed by the timeout), packets and bytes (all packets counted).
///
///  Conntrack — connection-tracking firewall. A connection is keyed on its 5-tuple with the two
///  endpoints (address, port) in canonical order (the smaller first), so both directions find
///  it. For an IPv4 packet with ip.proto 6 (TCP):
///   - without its TCP header in the frame (a later fragment, a cut header): dropped;
///   - RST set: passes and closes the connection when it is tracked, dropped otherwise;
///   - SYN set and ACK clear: passes and opens the connection (or refreshes it);
///   - anything else: passes (refreshing it) when the connection is tracked, dropped otherwise.
///  FIN does not close a connection: it lives until RST or the idle timeout. Without `strict`
///  every other packet passes, frames that are not IPv4 included. With `strict`, UDP (ip.proto
///  17) is tracked per flow: every UDP packet passes and opens or refreshes its flow's entry;
///  other protocols and frames that are not IPv4 are dropped. Counters: in, passed, dropped,
///  connections (live, TCP and UDP).
///
///  RateLimit — token buckets, one per value of the key fields (one for all packets when the
///  key is empty). Exact integer arithmetic in nano-units: a bucket holds up to
///  burst * 10^9 units (burst in packets for packet rates; in bytes for bit rates, i.e.
///  8 * burst bits), starts full when its key is first seen, and gains rate units per second
///  of element time (rate * dt_ns nano-units, capped at the size). A packet costs 10^9 units
///  (packet rates) or 8 * wireLen * 10^9 (bit rates): it passes and pays when the bucket holds
///  at least that, otherwise it is dropped and the bucket is unchanged. Buckets are kept for
///  the whole run. Counters: in, passed, dropped, buckets.
///
///  Dpi — the payload (Packet::payload()) is scanned by Hyperscan in block mode against every
///  pattern of the set, compiled with the flags of its hsbench letters (i s m H V W 8 P L C Q;
///  O, "must be ordered", is a flag of Hyperscan's test tools only and is ignored) plus
///  HS_FLAG_SINGLEMATCH (except with L, SOM_LEFTMOST, which Hyperscan cannot combine with it).
///  A match sets Result::matched (the caller applies the element's onMatch action); an empty
///  payload is not scanned and never matches. Counters: in, matched.
///  With Suricata rules (ir::PatternRule; the set's patterns are their contents) the packet
///  matches when some rule holds: IPv4 of the rule's protocol, addresses and ports in its sets
///  (either direction with `<>`), every positive content found in the payload and no negated
///  one, and its flow in the state `flow` asks. Flows (the 5-tuple, both directions, idle
///  timeout 600 s) are tracked when a rule has flow bits, for every IPv4 packet, before the
///  payload is matched: the client is the first packet's sender; TCP is established after the
///  client's SYN, the server's SYN+ACK and the client's ACK, and no longer after a RST or FINs
///  from both sides; other protocols once both directions were seen. Counters add alerts (rules
///  that held, summed over packets) and flows (live).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"
#include "runtime/packet/Packet.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace metron::state {

struct Result {
  bool drop = false;    ///< the element dropped the packet
  bool matched = false; ///< Dpi: the payload matched a pattern (the caller applies onMatch)
};

class ElementState {
public:
  virtual ~ElementState() = default;
  /// Processes one packet (possibly rewriting it through Packet::set).
  virtual Result process(pkt::Packet &p) = 0;
  /// Counters for `--stats`, in a stable order: {"in", n}, {"dropped", n}, {"mappings", n}...
  virtual std::vector<std::pair<std::string, uint64_t>> counters() const = 0;

  /// Creates the state for a stateful element (Napt, Balance, Monitor, Conntrack, RateLimit,
  /// Dpi). nullptr and \p err for an element that cannot run (a Dpi pattern Hyperscan rejects:
  /// the message names the pattern id, its file line and Hyperscan's reason).
  static std::unique_ptr<ElementState> create(const ir::Element &e, std::string &err);
};

/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR
/// 0xFFFFFFFF; crc32c("123456789") = 0xE3069283), computed byte by byte from a table.
uint32_t crc32c(const uint8_t *data, size_t len);

/// The flow hash of `balance ... hash`: crc32c of the 13 bytes ip.proto (1 byte), ip.src (4),
/// ip.dst (4), tp.src (2), tp.dst (2), each in network byte order, read from the field vector.
uint32_t flowHash(const pkt::Packet &p);

} // namespace metron::state
