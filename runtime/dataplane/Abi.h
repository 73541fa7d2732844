//===- runtime/dataplane/Abi.h - The contract between generated code and the runtime ---*- C -*-===//
///
/// \file
/// What an object emitted by codegen/ (OUT/bin/*.o) exports and what it calls. The generated
/// code classifies packets and applies Ω: it writes header fields itself (the field vector and
/// the frame, with incremental checksum updates, at the offsets of the packet's mtr_packet_hdr);
/// everything with state or a DPDK library behind it (flow tables, rte_acl, Hyperscan) and the
/// one write that moves the frame (a VLAN push) are calls into the runtime.
///
/// Exported by the generated object:
///   const struct mtr_program metron_program;
/// Per core k, metron_program.entries[k] is the function specialized to the traffic-class
/// groups core k owns (DESIGN.md §5): it is given the packet, its header block (the field
/// vector the runtime parsed from it, as it entered the chain, and where the frame and its
/// headers are) and the tag the NIC / switch put on it (MTR_UNTAGGED when none), and returns
/// the egress port (a Module::portNames index) or MTR_DROP. It counts the packet in
/// class_counts[slot] for every (table, class) it goes through (slots: a running index over
/// the classes of every table, mtr_program::classes).
//===----------------------------------------------------------------------------------------===//
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTR_ABI_VERSION 2u
#define MTR_UNTAGGED 0xffffffffu
#define MTR_DROP (-1)

/// Result bits of mtr_stateful.
#define MTR_ST_DROP 1u
#define MTR_ST_MATCHED 2u

struct mtr_core;  /* the runtime's per-core context (opaque to generated code) */
struct mtr_packet; /* the runtime's packet (opaque): pkt::Packet */

/// The number of fields of the field vector (compiler/Fields.def).
#define MTR_NUM_FIELDS 16u

/// The packet's header block (runtime/packet/Packet.h, PacketHeader, has this layout: checked
/// in Runtime.cpp). Generated code writes a field the way Packet::set does: the field vector,
/// then the frame when the layout says the frame has the field, with the IPv4 and TCP/UDP
/// checksums updated incrementally (RFC 1624; a UDP checksum of 0 stays 0).
struct mtr_packet_hdr {
  uint64_t fields[MTR_NUM_FIELDS]; /* by FieldId */
  uint8_t *data;                   /* the frame */
  uint32_t len;                    /* its captured bytes */
  uint16_t l3, l4, payload;        /* header offsets (pkt::Layout) */
  uint8_t vlan, ipv4, fragment, tcp, udp, icmp; /* 0 or 1 */
};

typedef int32_t (*mtr_entry_fn)(struct mtr_core *core, struct mtr_packet *p, struct mtr_packet_hdr *hdr, uint32_t tag,
                                uint64_t *class_counts);

/// A large table classified by rte_acl at run time: the classes in the flat encoding of
/// runtime/dataplane/Acl.h (encodeAclTable).
struct mtr_acl_table {
  uint32_t table;  /* synthesized table id */
  uint32_t classes;
  uint64_t words;
  const uint64_t *encoded;
};

struct mtr_program {
  uint32_t abi_version; /* MTR_ABI_VERSION */
  uint32_t cores;
  const mtr_entry_fn *entries;   /* [cores] */
  uint32_t acl_tables;
  const struct mtr_acl_table *acl; /* [acl_tables]; mtr_acl's `index` indexes this */
  uint32_t classes;              /* counters per core: classCounts[table_class_slot] */
  const char *config_json;       /* ports, tags, stateful elements, NAPT partitions (codegen/ProgramGen.cpp) */
  /* Table 0's classifier alone: the index of the first class of table 0 containing the fields
     (config_json "classes" lists table 0's classes first), for a software dispatcher core. */
  int32_t (*classify0)(struct mtr_core *core, const uint64_t *fields);
};

/* ---- called by generated code ---- */
/// Packet::set on the runtime's packet (checksums updated incrementally): generated code calls it
/// for vlan.id and vlan.pcp, whose write pushes a tag onto an untagged frame (the frame moves).
void mtr_set(struct mtr_packet *p, uint32_t field, uint64_t value);
/// Runs stateful element instance `slot` (config_json "stateful"[slot]) of this core on the
/// packet: MTR_ST_DROP / MTR_ST_MATCHED bits.
uint32_t mtr_stateful(struct mtr_core *c, uint32_t slot, struct mtr_packet *p);
/// First-match class index of large table `index` (mtr_program::acl) for the field vector.
int32_t mtr_acl(struct mtr_core *c, uint32_t index, const uint64_t *fields);

#ifdef __cplusplus
}
#endif
