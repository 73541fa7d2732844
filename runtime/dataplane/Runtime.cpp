//===- runtime/dataplane/Runtime.cpp - A generated program's cores, and what generated code calls ===//
#include "runtime/dataplane/Runtime.h"

#include "runtime/dataplane/FlowState.h"

#include <cstddef>

namespace metron::dp {

using nlohmann::json;

// Generated code reads and writes pkt::PacketHeader as the ABI's mtr_packet_hdr.
using pkt::PacketHeader;
static_assert(MTR_NUM_FIELDS == ir::kNumFields);
static_assert(std::is_standard_layout_v<PacketHeader> && std::is_standard_layout_v<pkt::Layout>);
static_assert(sizeof(PacketHeader) == sizeof(mtr_packet_hdr) && alignof(PacketHeader) == alignof(mtr_packet_hdr));
static_assert(offsetof(PacketHeader, fields) == offsetof(mtr_packet_hdr, fields) &&
              offsetof(PacketHeader, data) == offsetof(mtr_packet_hdr, data) &&
              offsetof(PacketHeader, len) == offsetof(mtr_packet_hdr, len));
static_assert(offsetof(PacketHeader, layout) + offsetof(pkt::Layout, l3) == offsetof(mtr_packet_hdr, l3) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, l4) == offsetof(mtr_packet_hdr, l4) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, payload) == offsetof(mtr_packet_hdr, payload) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, vlan) == offsetof(mtr_packet_hdr, vlan) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, ipv4) == offsetof(mtr_packet_hdr, ipv4) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, fragment) == offsetof(mtr_packet_hdr, fragment) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, tcp) == offsetof(mtr_packet_hdr, tcp) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, udp) == offsetof(mtr_packet_hdr, udp) &&
              offsetof(PacketHeader, layout) + offsetof(pkt::Layout, icmp) == offsetof(mtr_packet_hdr, icmp));
static_assert(sizeof(bool) == 1, "the layout flags are bytes holding 0 or 1");

std::unique_ptr<ProgramRuntime> ProgramRuntime::create(const mtr_program &p, std::string &err) {
  if (p.abi_version != MTR_ABI_VERSION) {
    err = "the generated code has ABI version " + std::to_string(p.abi_version) + ", this runtime " +
          std::to_string(MTR_ABI_VERSION) + ": recompile the chain";
    return nullptr;
  }
  std::unique_ptr<ProgramRuntime> r(new ProgramRuntime(p));
  try {
    r->config_ = json::parse(p.config_json);
    r->cores_ = r->config_.at("cores").get<uint32_t>();
    r->portNames_ = r->config_.at("ports").get<std::vector<std::string>>();
    r->ingress_ = r->config_.at("ingress").get<std::vector<std::string>>();
    r->egress_ = r->config_.at("egress").get<std::vector<std::string>>();
    uint32_t slot = 0;
    for (const auto &c : r->config_.at("classes")) r->slotOfClass_[c.at("class").get<uint32_t>()] = slot++;
    for (const auto &t : r->config_.at("tags"))
      r->tags_.push_back({t.at("kind").get<std::string>(), t.at("value").get<uint64_t>(), t.at("group").get<uint32_t>(),
                          t.at("core").get<uint32_t>(), t.at("napt_return").get<bool>()});
  } catch (const json::exception &e) {
    err = std::string("the embedded configuration is malformed: ") + e.what();
    return nullptr;
  }
  if (r->cores_ != p.cores || r->cores_ == 0) {
    err = "the embedded configuration disagrees with the program on cores";
    return nullptr;
  }
  for (uint32_t i = 0; i < p.acl_tables; ++i) {
    const mtr_acl_table &t = p.acl[i];
    std::vector<AclClass> classes;
    if (!decodeAclTable(t.encoded, t.words, classes, err)) {
      err = "table " + std::to_string(t.table) + ": " + err;
      return nullptr;
    }
    ClassTable ct;
    ct.table = t.table;
    std::string name = "metron_t" + std::to_string(t.table);
    ct.lpm = LpmTable::build(classes, name, err, &ct.notRoutes);
    if (!ct.lpm && err.empty()) ct.acl = AclTable::build(classes, name, err);
    if (!ct.lpm && !ct.acl) {
      err = "table " + std::to_string(t.table) + " (" + std::to_string(t.classes) + " classes): " + err;
      return nullptr;
    }
    r->acl_.push_back(std::move(ct));
  }
  return r;
}

ProgramRuntime::~ProgramRuntime() = default;

void ClassTable::lookupBurst(const uint64_t *const *fields, uint32_t n, int32_t *out) const {
  if (acl) return acl->lookupBurst(fields, n, out);
  for (uint32_t i = 0; i < n; ++i) out[i] = lpm->lookup(fields[i]);
}

void lookupTable0Burst(const mtr_core &c, const uint64_t *const *fields, uint32_t n, int32_t *out) {
  (*c.acl)[size_t(c.table0)].lookupBurst(fields, n, out);
}

std::string ClassTable::describe() const {
  std::string s = "table " + std::to_string(table) + ": ";
  if (lpm)
    return s + "rte_lpm on " + (lpm->field() == uint8_t(ir::FieldId::IpDst) ? "ip.dst" : "ip.src") + ", " +
           std::to_string(lpm->rules()) + " prefixes";
  return s + "rte_acl, " + std::to_string(acl->rules()) + " rules in " + std::to_string(acl->contexts()) + " context" +
         (acl->contexts() == 1 ? "" : "s") + " (not a route table: " + notRoutes + ")";
}

int32_t ProgramRuntime::slotOfClass(uint32_t classId) const {
  auto it = slotOfClass_.find(classId);
  return it == slotOfClass_.end() ? -1 : int32_t(it->second);
}

std::unique_ptr<mtr_core> ProgramRuntime::makeCore(uint32_t k, std::string &err) {
  auto c = std::make_unique<mtr_core>();
  c->id = k;
  c->entry = p_.entries[k];
  c->acl = &acl_;
  for (size_t i = 0; i < acl_.size(); ++i)
    if (acl_[i].table == 0) c->table0 = int32_t(i);
  c->classCounts.assign(p_.classes, 0);
  // Each core has its own state for every stateful element; a NAPT uses the part of its port
  // range the compiler gave this core (the NIC's mirrored rules send return traffic there).
  for (const auto &d : config_.at("stateful")) {
    json desc = d;
    if (d.contains("cores"))
      for (const auto &part : d.at("cores"))
        if (part.at("core").get<uint32_t>() == k) desc["ports"] = part.at("ports");
    const std::string nf = d.value("nf", std::string("?"));
    auto el = std::make_unique<state::DescribedElement>(state::elementFromJson(desc, err));
    if (!el->element) {
      err = "stateful element " + nf + ": " + err;
      return nullptr;
    }
    // Flow tables on rte_hash (FlowState.h); DPI keeps the shared Hyperscan element.
    auto st = makeFlowState(*el->element, err, kFlowStateInitialEntries, flowCacheEntries_);
    if (!st && err.empty()) st = state::ElementState::create(*el->element, err);
    if (!st) {
      err = "stateful element " + nf + ": " + err;
      return nullptr;
    }
    c->states.push_back(std::move(st));
    elements_.push_back(std::move(el));
  }
  return c;
}

} // namespace metron::dp

using namespace metron;

extern "C" {
void mtr_set(struct mtr_packet *p, uint32_t field, uint64_t value) {
  reinterpret_cast<pkt::Packet *>(p)->set(ir::FieldId(field), value);
}
uint32_t mtr_stateful(struct mtr_core *c, uint32_t slot, struct mtr_packet *p) {
  state::Result r = c->states[slot]->process(*reinterpret_cast<pkt::Packet *>(p));
  return (r.drop ? MTR_ST_DROP : 0u) | (r.matched ? MTR_ST_MATCHED : 0u);
}
int32_t mtr_acl(struct mtr_core *c, uint32_t index, const uint64_t *fields) {
  if (fields == c->presetFields && int32_t(index) == c->table0) return c->presetClass; // runBurst
  return (*c->acl)[index].lookup(fields);
}
}
