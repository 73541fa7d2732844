//===- runtime/dataplane/FlowState.h - Stateful elements on rte_hash flow tables ------*- C++ -*-===//
///
/// \file
/// The data plane's implementations of the stateful elements Napt, Balance, Monitor, Conntrack
/// and RateLimit. Their behaviour is exactly that of runtime/state (State.h: same field writes
/// through Packet::set, same drop results, same counters, same NAPT port choices and expiry
/// order); only the flow tables differ: DPDK rte_hash tables (CRC32 hash computed once per
/// packet, fixed-size keys, extendable buckets so that a table holds its full capacity), with
/// the per-flow values in arrays indexed by the table's key positions (or by NAPT port) and an
/// intrusive LRU list for the idle timeouts. Nothing is allocated per packet.
///
/// Capacities: a NAPT table holds one mapping per port of its range (never more are live).
/// The other tables start at \p initialEntries and double when full, moving every key (and its
/// value, in LRU order for the idle tables) into the new table: no flow is ever lost. A table
/// that cannot grow (DPDK's memory or memzones exhausted, or 2^30 entries) ends the process
/// with a message on stderr (abort) rather than change the element's behaviour.
///
/// Flow caches: NAPT, Balance, Conntrack, and Monitor and RateLimit with a key of at most 104
/// bits (e.g. the default 5-tuple), look a packet's key up first in a FlowCache, a per-core
/// exact-match cache of the table's answers (two ways a set, 16 bytes an entry, after OVS-DPDK's
/// EMC), and in the rte_hash only when it misses: the cache holds only keys the table holds,
/// with the same data (a port offset, a backend, a table position), forgets a key the table
/// deletes and is emptied when the table grows (positions move), so that the answers are the
/// same.
///
/// Every table is an rte_hash with a unique name (rte_hash names are global to the EAL), freed
/// when its state is destroyed. Each takes two of the EAL's RTE_MAX_MEMZONE (2560) memzones,
/// its rings: about 1,200 states can live at once. DPDK's EAL must be initialised.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/state/State.h"

#include <cstdint>
#include <memory>
#include <string>

namespace metron::dp {

/// Initial capacity of the growing tables (Balance, Monitor, Conntrack, RateLimit).
constexpr uint32_t kFlowStateInitialEntries = 64 * 1024;
/// Entries of a flow cache (128 KiB): enough that a few thousand active flows rarely share a
/// set. A NAPT's is at most twice its part of the port range.
constexpr uint32_t kFlowCacheEntries = 8192;

/// The data plane's state for a stateful element, its flow table an rte_hash (behaviour:
/// State.h). Returns nullptr with \p err empty for kinds it does not implement (Dpi: the caller
/// then uses state::ElementState::create); nullptr with \p err set on failure (an element the
/// reference could not run either, or an rte_hash that cannot be created). \p initialEntries:
/// the starting capacity of the growing tables (at least 8; tests use small values to exercise
/// growth). \p cacheEntries: the flow cache's entries (a power of two is used; 0 or 1: no cache).
std::unique_ptr<state::ElementState> makeFlowState(const ir::Element &e, std::string &err,
                                                   uint32_t initialEntries = kFlowStateInitialEntries,
                                                   uint32_t cacheEntries = kFlowCacheEntries);

/// The flow cache's hits and misses of a state makeFlowState made; false when it has none.
bool flowCacheCounts(const state::ElementState &s, uint64_t &hits, uint64_t &misses);

/// For tests: whether every entry of the flow cache of a state makeFlowState made is a key its
/// table holds, with the table's data (true for a state without a cache); else false and \p why.
bool flowCacheConsistent(const state::ElementState &s, std::string &why);

} // namespace metron::dp
