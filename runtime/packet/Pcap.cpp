//===- runtime/packet/Pcap.cpp - Reading and writing pcap files (libpcap) --------------------===//
///
/// \file
/// PcapReader and PcapWriter of Pcap.h over libpcap 1.10. libpcap already rejects files it
/// cannot read (unknown format, truncated header, a record cut by the end of the file, a
/// captured length beyond the snap length); the reader adds the record number and the file
/// name to its message, refuses non-Ethernet link types, skips zero-length records and bounds
/// frames by kMaxFrameBytes.
//===----------------------------------------------------------------------------------------===//
#include "runtime/packet/Pcap.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace metron::pkt {

namespace {
/// The snap length written to output files: libpcap's own maximum, so that any frame the
/// reader accepts (and grows by VLAN pushes) can be read back whole.
constexpr int kWriteSnapLen = 262144;
} // namespace

// ---- reader ------------------------------------------------------------------------------------

struct PcapReader::Impl {
  pcap_t *pcap = nullptr;
  std::string path;
  bool failed = false;
  ~Impl() {
    if (pcap) pcap_close(pcap);
  }
};

std::unique_ptr<PcapReader> PcapReader::open(const std::string &path, std::string &err) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pc = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!pc) {
    err = "cannot open '" + path + "': " + errbuf;
    return nullptr;
  }
  std::unique_ptr<PcapReader> r(new PcapReader);
  r->impl_ = std::make_unique<Impl>();
  r->impl_->pcap = pc;
  r->impl_->path = path;
  int dlt = pcap_datalink(pc);
  if (dlt != DLT_EN10MB) {
    const char *name = pcap_datalink_val_to_name(dlt);
    err = "'" + path + "': link type " + (name ? name : "unknown") + " (" + std::to_string(dlt) +
          ") is not supported; metronc reads Ethernet captures";
    return nullptr;
  }
  return r;
}

PcapReader::~PcapReader() = default;

bool PcapReader::next(Packet &p) {
  if (impl_->failed) return false;
  for (;;) {
    const uint64_t recordNo = records_ + skipped_ + 1;
    auto fail = [&](const std::string &why) {
      error_ = "'" + impl_->path + "': record " + std::to_string(recordNo) + ": " + why;
      impl_->failed = true;
      return false;
    };
    pcap_pkthdr *hdr = nullptr;
    const u_char *data = nullptr;
    int rc = pcap_next_ex(impl_->pcap, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) return false; // end of file
    if (rc != 1) return fail(pcap_geterr(impl_->pcap));
    if (hdr->caplen == 0) {
      ++skipped_;
      continue;
    }
    if (hdr->caplen > kMaxFrameBytes)
      return fail("captured length " + std::to_string(hdr->caplen) + " exceeds " +
                  std::to_string(kMaxFrameBytes) + " bytes (Ethernet, one VLAN tag and the largest IPv4 datagram)");
    // With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds.
    uint64_t ns = uint64_t(int64_t(hdr->ts.tv_sec)) * 1000000000u + uint64_t(hdr->ts.tv_usec);
    p = Packet(data, hdr->caplen, ns);
    p.wireLen = std::max(hdr->len, hdr->caplen);
    ++records_;
    if (hdr->caplen < hdr->len) ++truncated_;
    return true;
  }
}

// ---- writer ------------------------------------------------------------------------------------

struct PcapWriter::Impl {
  pcap_t *dead = nullptr;
  pcap_dumper_t *dumper = nullptr;
  std::string path, tmp;
  bool created = false, committed = false;
  ~Impl() {
    if (dumper) pcap_dump_close(dumper);
    if (created && !committed) ::unlink(tmp.c_str());
    if (dead) pcap_close(dead);
  }
};

std::unique_ptr<PcapWriter> PcapWriter::create(const std::string &path, std::string &err) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->tmp = path + ".tmp";
  impl->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, kWriteSnapLen, PCAP_TSTAMP_PRECISION_NANO);
  if (!impl->dead) {
    err = "cannot create '" + impl->tmp + "': libpcap could not allocate a handle";
    return nullptr;
  }
  impl->dumper = pcap_dump_open(impl->dead, impl->tmp.c_str());
  if (!impl->dumper) {
    err = "cannot create '" + impl->tmp + "': " + pcap_geterr(impl->dead);
    return nullptr;
  }
  impl->created = true;
  std::unique_ptr<PcapWriter> w(new PcapWriter);
  w->impl_ = std::move(impl);
  return w;
}

PcapWriter::~PcapWriter() = default;

bool PcapWriter::write(const Packet &p) {
  if (!impl_->dumper || p.size() > size_t(kWriteSnapLen)) return false;
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = time_t(p.timestampNs / 1000000000u);
  hdr.ts.tv_usec = suseconds_t(p.timestampNs % 1000000000u); // nanoseconds: see pcap_open_dead above
  hdr.caplen = uint32_t(p.size());
  hdr.len = std::max(p.wireLen, hdr.caplen);
  pcap_dump(reinterpret_cast<u_char *>(impl_->dumper), &hdr, p.data());
  if (std::ferror(pcap_dump_file(impl_->dumper))) return false;
  ++written_;
  return true;
}

bool PcapWriter::commit(std::string &err) {
  if (!impl_->dumper) {
    err = "'" + impl_->path + "': commit() was already called";
    return false;
  }
  FILE *f = pcap_dump_file(impl_->dumper);
  errno = 0;
  if (std::fflush(f) != 0 || std::ferror(f) || ::fsync(fileno(f)) != 0) {
    err = "cannot write '" + impl_->tmp + "': " + std::strerror(errno ? errno : EIO);
    return false;
  }
  pcap_dump_close(impl_->dumper); // fclose after a successful flush and sync
  impl_->dumper = nullptr;
  if (std::rename(impl_->tmp.c_str(), impl_->path.c_str()) != 0) {
    err = "cannot rename '" + impl_->tmp + "' to '" + impl_->path + "': " + std::strerror(errno);
    return false;
  }
  impl_->committed = true;
  return true;
}

} // namespace metron::pkt
