//===- runtime/packet/Pcap.h - Reading and writing pcap files (libpcap) -------------*- C++ -*-===//
///
/// \file
/// Capture files in and out of the packet model. Reading goes through libpcap, so classic pcap
/// (micro- or nanosecond, either byte order) and pcapng both work; timestamps are nanoseconds.
/// Writing produces classic nanosecond pcap, link type Ethernet.
//===----------------------------------------------------------------------------------------===//
#pragma once

#include "runtime/packet/Packet.h"

#include <memory>
#include <string>

namespace metron::pkt {

/// Reads a capture with libpcap (pcap and pcapng). Ethernet link type only; other link types
/// are refused by open() with a message naming the link type.
class PcapReader {
public:
  /// nullptr and \p err ("cannot open 'x.pcap': ...", "'x.pcap': link type LINUX_SLL (113) is
  /// not supported; metronc reads Ethernet captures") on failure.
  static std::unique_ptr<PcapReader> open(const std::string &path, std::string &err);
  ~PcapReader();
  /// Next packet (in_port 0, wireLen = the record's original length, or its captured length
  /// when a broken writer stored a smaller one); false at the end or on a corrupt record (then
  /// error() is non-empty and says which record, counting from 1, and why: "'x.pcap': record 7:
  /// ..."). After an error every later call returns false. A record whose captured length
  /// exceeds kMaxFrameBytes is corrupt. Zero-length records (nothing captured) carry no packet:
  /// they are skipped and counted in skippedRecords(), since some capture tools write them.
  bool next(Packet &p);
  const std::string &error() const { return error_; }
  /// Packets returned by next().
  uint64_t recordsRead() const { return records_; }
  /// Records whose captured length is below their wire length (cut by the snap length).
  uint64_t truncatedRecords() const { return truncated_; }
  /// Zero-length records skipped by next().
  uint64_t skippedRecords() const { return skipped_; }

  /// The largest frame the packet model describes: Ethernet, one VLAN tag and the largest
  /// IPv4 datagram (14 + 4 + 65535 bytes).
  static constexpr uint32_t kMaxFrameBytes = 14 + 4 + 65535;

private:
  PcapReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
  uint64_t records_ = 0, truncated_ = 0, skipped_ = 0;
};

/// Writes an Ethernet pcap (nanosecond timestamps) to PATH.tmp and renames it to PATH on
/// commit(); a writer destroyed without commit() removes the temporary file, so a failed run
/// leaves no half-written output.
class PcapWriter {
public:
  /// nullptr and \p err ("cannot create 'x.pcap.tmp': ...") on failure.
  static std::unique_ptr<PcapWriter> create(const std::string &path, std::string &err);
  ~PcapWriter();
  /// Frame bytes, max(wireLen, frame size) as the original length, timestampNs. False (and
  /// nothing written) when the file has had a write error, was already committed, or the frame
  /// is longer than 262144 bytes (libpcap's largest snap length, which the file declares).
  bool write(const Packet &p);
  /// Flushes, syncs and closes PATH.tmp, then renames it to PATH; false and \p err on failure
  /// (the temporary file is then removed by the destructor).
  bool commit(std::string &err);
  uint64_t written() const { return written_; }

private:
  PcapWriter() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t written_ = 0;
};

} // namespace metron::pkt
