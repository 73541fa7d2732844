//===- runtime/packet/Packet.h - The packet model: a frame and its field vector -----*- C++ -*-===//
///
/// \file
/// The packet model of the semantic contract (man/metron-lang.7, PACKET MODEL), shared by the
/// reference interpreter, the synthesized-table executor and `metronc explain`.
///
/// A Packet is a frame (bytes) plus its *field vector*: one value per field of Fields.def. The
/// field vector is authoritative for everything a chain reads:
///
///  * parse() fills it from the frame. A field the frame does not have reads as 0 (tp.src of
///    ICMP, vlan.id of an untagged frame, ip.* of a non-IPv4 frame or of an IPv4 header that is
///    incomplete or malformed). The exact rules are in Packet.cpp (file comment); in short:
///    Ethernet needs 14 captured bytes; only TPID 0x8100 is a tag (one; an 802.1ad 0x88a8
///    frame is a non-IP frame of that type); IPv4 needs the whole IHL*4-byte header captured
///    with version 4, IHL >= 5 and total length >= IHL*4, and a total length beyond the captured
///    bytes (a snap-length cut) is still IPv4; a non-first fragment has no L4 fields; TCP needs
///    its 20-byte header, UDP 8 bytes, ICMP 4 bytes inside the captured part of the datagram.
///  * set() writes the field vector *and* the frame when the frame has the field, keeping every
///    checksum correct by incremental update (RFC 1624): IPv4 header checksum, TCP/UDP checksum
///    (pseudo-header for address changes; a UDP checksum of 0 stays 0). A checksum that was
///    wrong stays wrong by the same amount.
///  * Writing a field the frame does not have changes only the field vector: later reads in the
///    chain see the written value, the frame on the wire is unchanged. Exception: writing
///    vlan.id or vlan.pcp of an untagged Ethernet frame pushes an 802.1Q tag (TPID 0x8100, the
///    other of the two fields 0), so the frame grows by 4 bytes; eth.type keeps naming the
///    inner type.
///  * The read-only fields of Fields.def (in_port, eth.type, ip.proto, tcp.flags, icmp.type,
///    icmp.code) can be set() too, but only in the field vector: the frame never changes (in_port
///    is metadata; the others are never written by a chain, sema rejects it).
///
/// in_port is metadata (the index of the chain ingress port), never in the frame.
///
/// A packet owns its frame (the constructors, assign()) or is a view of memory it does not own
/// (attach(): the data plane's mbuf, so that nothing is copied): parse, set and the payload
/// work in place, and a VLAN push uses the headroom before the frame. data()/size() read the
/// frame in both cases; frame() (a vector) only for a packet that owns it.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "compiler/NFIR.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace metron::pkt {

using ir::FieldId;

/// Where the headers are in the frame; 0 / false when absent.
struct Layout {
  uint16_t l3 = 0;        ///< offset of the IPv4 header (when ipv4)
  uint16_t l4 = 0;        ///< offset of the TCP/UDP/ICMP header (when tcp/udp/icmp)
  uint16_t payload = 0;   ///< offset of the payload, 0 when there is none: after the TCP header
                          ///< and its options, the 8-byte UDP header, the 4-byte ICMP header
                          ///< (type, code, checksum; the rest of the message is payload); after
                          ///< the IP header for other protocols and non-first fragments; after
                          ///< the Ethernet/VLAN header for non-IPv4 frames. None when the frame
                          ///< is shorter than 14 bytes or the TCP/UDP/ICMP header is incomplete.
  bool vlan = false;
  bool ipv4 = false;
  bool fragment = false;  ///< IPv4 with a non-zero fragment offset (no L4 header in it)
  bool tcp = false, udp = false, icmp = false; ///< L4 header present and complete
  bool operator==(const Layout &) const = default;
};

/// What generated code reads and writes of a packet directly (runtime/dataplane/Abi.h,
/// mtr_packet_hdr, has the same layout, checked there): the field vector first, so that the
/// address of the field vector is the address of this block, then where the frame is and
/// where its headers are.
struct PacketHeader {
  std::array<uint64_t, ir::kNumFields> fields{};
  uint8_t *data = nullptr; ///< the frame: the packet's own storage, or the attached memory
  uint32_t len = 0;
  Layout layout;
};

class Packet {
public:
  Packet() = default;
  /// Copies the frame and parses it; wireLen is \p len (raise it for a frame cut by a snap
  /// length).
  Packet(const uint8_t *data, size_t len, uint64_t timestampNs = 0, uint16_t inPort = 0);

  /// Replaces the packet by a copy of \p data (as the constructor does), reusing the frame's
  /// storage: the data plane keeps one Packet per core. \p wireLen: the length on the wire.
  void assign(const uint8_t *data, size_t len, uint32_t wireLen, uint64_t timestampNs, uint16_t inPort);

  /// Makes the packet a view of the \p len bytes at \p data (nothing is copied) and parses
  /// them; set() then writes that memory. \p headroom: how many bytes before \p data the
  /// packet may use to push a VLAN tag (the frame then starts 4 bytes earlier: see data());
  /// with fewer than 4 a push first copies the frame into storage of the packet's own
  /// (isView() turns false). The memory must outlive the packet's use of it.
  void attach(uint8_t *data, uint32_t len, uint32_t headroom, uint32_t wireLen, uint64_t timestampNs, uint16_t inPort);
  bool isView() const { return view_; }

  Packet(const Packet &o) { *this = o; }
  Packet(Packet &&o) noexcept { *this = std::move(o); }
  /// A copy owns its frame, also the copy of a view.
  Packet &operator=(const Packet &o);
  Packet &operator=(Packet &&o) noexcept;

  /// Builds a packet from field values alone (for `metronc explain` and trace headers): a
  /// minimal well-formed frame (Ethernet, optional VLAN, IPv4 when eth.type is 0x0800 or any
  /// ip.* field is non-zero, TCP/UDP/ICMP by ip.proto) carrying the values it can, and the
  /// field vector set to exactly \p fields (so tp.src of a proto-0 header keeps its value).
  static Packet fromFields(const std::array<uint64_t, ir::kNumFields> &fields, uint64_t timestampNs = 0);

  uint64_t get(FieldId f) const { return h_.fields[size_t(f)]; }
  /// Writes a field (see the file comment); \p v is truncated to the field's width.
  void set(FieldId f, uint64_t v);
  /// set(addr, a) for \p addr ip.src or ip.dst (a balancer's write), without set()'s dispatch
  /// (another field is a programming error: asserted in debug builds).
  void setAddress(FieldId addr, uint32_t a);
  /// set(addr, a) then set(port, pt), as a NAPT rewrites a flow's end (\p addr is ip.src or
  /// ip.dst, \p port tp.src or tp.dst), with one update of the TCP/UDP checksum for both.
  void setAddressAndPort(FieldId addr, uint32_t a, FieldId port, uint16_t pt);
  const std::array<uint64_t, ir::kNumFields> &fields() const { return h_.fields; }
  /// The field vector and where the frame and its headers are, for generated code
  /// (runtime/dataplane/Abi.h), which writes fields exactly as set() does.
  PacketHeader &header() { return h_; }

  /// The frame of a packet that owns it; for a view (attach()) use data() and size(): a logic
  /// error is thrown.
  const std::vector<uint8_t> &frame() const;
  const uint8_t *data() const { return h_.data; }
  size_t size() const { return h_.len; }
  const Layout &layout() const { return h_.layout; }
  /// The payload (see Layout::payload), up to the end of the captured IPv4 datagram (so
  /// Ethernet padding is not payload) or, for non-IPv4 frames, the end of the frame; nullptr and
  /// 0 when there is none.
  const uint8_t *payload() const;
  size_t payloadLen() const;

  uint64_t timestampNs = 0;
  /// Length of the packet on the wire (pcap orig_len, grown by a VLAN push); frame().size()
  /// may be shorter when the capture was cut by a snap length.
  uint32_t wireLen = 0;
  uint16_t inPort() const { return uint16_t(h_.fields[size_t(FieldId::InPort)]); }
  void setInPort(uint16_t p) { h_.fields[size_t(FieldId::InPort)] = p; }

private:
  void parse();
  void pushVlanTag();
  void own(); ///< a view becomes a packet that owns a copy of its frame
  /// A new packet in \p data (own_.data() or attached memory): the metadata, then parse().
  void start(uint8_t *data, uint32_t len, uint32_t headroom, bool view, uint32_t wire, uint64_t ts, uint16_t inPort);
  PacketHeader h_;
  uint32_t headroom_ = 0; ///< attached: usable bytes before h_.data
  bool view_ = false;
  std::vector<uint8_t> own_;
};

/// Recomputes every checksum of the frame from scratch and says whether the ones present are
/// correct, bit for bit (IPv4 header; TCP/UDP/ICMP when the whole datagram was captured and is
/// not a fragment; a UDP checksum of 0 counts as correct, and a computed UDP checksum of 0 must
/// be sent as 0xffff). For tests: incremental updates must agree with it. \p why says which
/// checksum is wrong, with the value found and the value expected.
bool checksumsValid(const Packet &p, std::string *why = nullptr);

} // namespace metron::pkt
