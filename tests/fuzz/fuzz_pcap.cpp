//===- tests/fuzz/fuzz_pcap.cpp - libFuzzer target: capture files and the packet model -------===//
///
/// The input is a capture file (pcap or pcapng), read through metron::pkt::PcapReader. The
/// reader opens a path, so the bytes go to a memfd that is reopened as /proc/self/fd/N (no file
/// is left behind, and parallel fuzzers do not collide). Every packet read is then exercised:
///
///  * payload()/payloadLen() must lie inside the frame; every payload byte is read;
///  * every writable field of Fields.def is set() to a value taken from the input, in an
///    order taken from the input;
///  * after each set() the field vector holds the value (truncated to the field's width) and
///    the frame length is unchanged, except for a VLAN push (vlan.id / vlan.pcp of an untagged
///    frame of at least 14 bytes), which grows the frame and wireLen by exactly 4;
///  * a packet whose checksums were valid (checksumsValid) before the writes is still valid
///    after them;
///  * re-parsing the written frame gives the same layout, and the same value for every
///    written field the frame carries.
///
/// A violated property is __builtin_trap(); crashes and sanitizer reports are bugs too.
//===----------------------------------------------------------------------------------------===//
#include "runtime/packet/Pcap.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using metron::ir::FieldId;
using metron::pkt::Packet;

constexpr FieldId kWritable[] = {FieldId::EthSrc, FieldId::EthDst, FieldId::VlanId, FieldId::VlanPcp,
                                 FieldId::IpSrc,  FieldId::IpDst,  FieldId::IpTtl,  FieldId::IpDscp,
                                 FieldId::TpSrc,  FieldId::TpDst};
constexpr size_t kNumWritable = sizeof kWritable / sizeof kWritable[0];

void check(bool ok, const char *what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_pcap: property violated: %s\n", what);
    __builtin_trap();
  }
}

/// Values for the writes: 8-byte windows of the input, starting at a position that moves on
/// with every value taken (so different packets get different values).
struct Values {
  const uint8_t *data;
  size_t size, pos = 0;
  uint64_t next() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | (size ? data[(pos + size_t(i)) % size] : uint8_t(i));
    pos = size ? (pos + 7) % size : 0;
    return v;
  }
};

/// Reads every payload byte and checks that the payload lies inside the frame.
uint64_t touchPayload(const Packet &p) {
  const uint8_t *pl = p.payload();
  size_t n = p.payloadLen();
  if (!pl) {
    check(n == 0, "payload() is null but payloadLen() is not 0");
    return 0;
  }
  check(n > 0, "payload() is not null but payloadLen() is 0");
  const uint8_t *b = p.frame().data(), *e = b + p.frame().size();
  check(pl >= b && pl <= e && n <= size_t(e - pl), "payload outside the frame");
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) s += pl[i];
  return s;
}

/// Does the frame carry field \p f (so a write reaches the frame and a re-parse reads it)?
bool frameHas(const Packet &p, FieldId f) {
  const auto &L = p.layout();
  switch (f) {
  case FieldId::EthSrc:
  case FieldId::EthDst: return p.frame().size() >= 14;
  case FieldId::VlanId:
  case FieldId::VlanPcp: return L.vlan;
  case FieldId::IpSrc:
  case FieldId::IpDst:
  case FieldId::IpTtl:
  case FieldId::IpDscp: return L.ipv4;
  case FieldId::TpSrc:
  case FieldId::TpDst: return L.tcp || L.udp;
  default: return false;
  }
}

void exercise(Packet &p, Values &vals) {
  volatile uint64_t sink = touchPayload(p);
  const bool validBefore = metron::pkt::checksumsValid(p);
  const size_t sizeBefore = p.frame().size();
  const uint32_t wireBefore = p.wireLen;
  bool pushed = false;

  uint64_t written[metron::ir::kNumFields] = {};
  const size_t start = size_t(vals.next() % kNumWritable);
  for (size_t k = 0; k < kNumWritable; ++k) {
    const FieldId f = kWritable[(start + k) % kNumWritable];
    const auto &info = metron::ir::fieldInfo(f);
    const uint64_t v = vals.next() & info.maxValue();
    const size_t size0 = p.frame().size();
    const uint32_t wire0 = p.wireLen;
    const bool push = (f == FieldId::VlanId || f == FieldId::VlanPcp) && !p.layout().vlan && size0 >= 14;
    p.set(f, v);
    written[size_t(f)] = v;
    check(p.get(f) == v, "get() after set() does not return the value written");
    if (push) {
      pushed = true;
      check(p.frame().size() == size0 + 4, "a VLAN push did not grow the frame by 4 bytes");
      check(p.wireLen == wire0 + 4, "a VLAN push did not grow wireLen by 4");
      check(p.layout().vlan, "a VLAN push left the layout untagged");
    } else {
      check(p.frame().size() == size0, "set() changed the frame length without a VLAN push");
      check(p.wireLen == wire0, "set() changed wireLen without a VLAN push");
    }
    sink = sink + touchPayload(p);
  }
  check(p.frame().size() == sizeBefore + (pushed ? 4 : 0), "frame length changed by other than a VLAN push");
  check(p.wireLen == wireBefore + (pushed ? 4u : 0u), "wireLen changed by other than a VLAN push");
  if (validBefore) {
    std::string why;
    if (!metron::pkt::checksumsValid(p, &why)) {
      std::fprintf(stderr, "fuzz_pcap: %s\n", why.c_str());
      check(false, "set() broke a checksum that was valid");
    }
  }

  // The written frame, parsed afresh, must describe what the field vector says.
  Packet q(p.frame().data(), p.frame().size());
  check(q.layout() == p.layout(), "re-parsing the written frame gives another layout");
  for (FieldId f : kWritable)
    if (frameHas(p, f)) check(q.get(f) == written[size_t(f)], "re-parsing the written frame gives another field value");
  (void)sink;
}

/// A memfd holding the current input, and the path that reopens it.
struct InputFile {
  int fd = -1;
  std::string path;
  InputFile() {
    fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  void put(const uint8_t *data, size_t size) {
    if (ftruncate(fd, 0) != 0) std::abort();
    size_t off = 0;
    while (off < size) {
      ssize_t w = pwrite(fd, data + off, size - off, off_t(off));
      if (w <= 0) std::abort();
      off += size_t(w);
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static InputFile file;
  file.put(data, size);
  std::string err;
  auto reader = metron::pkt::PcapReader::open(file.path, err);
  if (!reader) {
    check(!err.empty(), "PcapReader::open failed with an empty message");
    return 0;
  }
  Values vals{data, size};
  Packet p;
  uint64_t n = 0;
  while (reader->next(p)) {
    ++n;
    check(!p.frame().empty(), "next() returned an empty frame");
    check(p.frame().size() <= metron::pkt::PcapReader::kMaxFrameBytes, "next() returned a frame over kMaxFrameBytes");
    check(p.wireLen >= p.frame().size(), "wireLen below the captured length");
    exercise(p, vals);
  }
  check(n == reader->recordsRead(), "recordsRead() disagrees with the packets returned");
  check(!reader->next(p), "next() returned a packet after the end or an error");
  return 0;
}
