//===- targets/openflow/OpenFlow.cpp - OpenFlow 1.3 flows for ovs-ofctl --------------------===//
///
/// \file
/// Prints DeviceRules as an `ovs-ofctl -O OpenFlow13 add-flows` file (ovs-ofctl(8) "Flow
/// Syntax", ovs-fields(7) for the field names and which of them take masks, ovs-actions(7)).
/// What Open vSwitch 3.1 requires in OpenFlow 1.3 and this printer checks, as internal errors
/// (each a bug of the lowering, never of the user's chain):
///
///  * A field is only matched with its prerequisite: nw_* and ip_dscp with `ip` (or
///    dl_type=0x0800), tcp_*/udp_* ports with `tcp`/`udp`, tcp_flags with `tcp`, icmp_* with
///    `icmp`. OVS rejects most violations, but silently ignores some (`udp,tcp_flags=...`
///    installs as plain `udp`).
///  * Ranges do not exist in OpenFlow (the split expands them into masked prefixes); dl_type,
///    nw_proto, nw_ttl, ip_dscp, icmp_type and icmp_code take no mask.
///  * set_field on vlan_vid/vlan_pcp and pop_vlan need a tag the match (or an earlier
///    push_vlan) guarantees; dec_ttl and the IPv4 writes need `ip`; the port writes need
///    `tcp`/`udp` (they become set_field on tcp_src/udp_src...). OpenFlow 1.3 has no way to push
///    a tag only when there is none.
///  * goto_table goes to a later table and ends the actions; tables are 0..253 (OVS keeps 254
///    for itself), priorities 0..65535.
///  * rte_flow's MARK has no OpenFlow form. Queue becomes set_queue.
///
/// VLAN matches are printed as the NXM field vlan_tci (value/mask over the whole TCI, with the
/// 0x1000 "tag present" bit), which OVS accepts in OpenFlow 1.3 and which states the packet
/// model exactly: vlan.id and vlan.pcp of an untagged frame read 0, so `vlan.id == 0` is
/// `vlan_tci=0x0000/0x0fff` (untagged or VID 0), while any non-zero value, or Rule::vlan,
/// requires the present bit.
//===----------------------------------------------------------------------------------------===//
#include "targets/openflow/OpenFlow.h"

#include "compiler/NFIR.h"
#include "lang/Diagnostics.h"

#include <algorithm>
#include <charconv>

namespace metron::targets::openflow {

namespace {

using ir::FieldId;

constexpr uint32_t kMaxTable = 253;      // OVS: n_tables 254; table 254 is internal (OFPBRC_EPERM)
constexpr uint32_t kMaxPriority = 65535; // 16 bits

// Appenders: the file has one line per rule (tens of thousands), so every piece of text is
// appended to the output in place, without temporary strings.
void dec(std::string &o, uint64_t v) {
  char buf[24];
  o.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

/// 0x hex, zero-padded to \p width digits.
void hex(std::string &o, uint64_t v, int width = 0) {
  char buf[24];
  char *end = std::to_chars(buf, buf + sizeof buf, v, 16).ptr;
  o += "0x";
  o.append(size_t(std::max<ptrdiff_t>(0, width - (end - buf))), '0');
  o.append(buf, end);
}

void ipv4(std::string &o, uint32_t a) {
  for (int s = 24; s >= 0; s -= 8) {
    dec(o, (a >> s) & 255);
    if (s) o += '.';
  }
}

void mac(std::string &o, uint64_t m) {
  static const char digits[] = "0123456789abcdef";
  for (int s = 40; s >= 0; s -= 8) {
    o += digits[(m >> (s + 4)) & 15];
    o += digits[(m >> s) & 15];
    if (s) o += ':';
  }
}

const char *fname(FieldId f) { return ir::fieldInfo(f).name; }

/// "rule 3 (table 0, priority 10, role class, class 12)": rule 3 of DeviceRules::rules, for internal errors.
std::string where(const Rule &r, size_t index) {
  std::string s = "OpenFlow printer: rule " + std::to_string(index) + " (table " + std::to_string(r.table) +
                  ", priority " + std::to_string(r.priority) + ", role " + ruleRoleName(r.role);
  if (r.classId >= 0) s += ", class " + std::to_string(r.classId);
  return s + ")";
}

/// One line of comment text: no line breaks.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

/// Appends the flow of one rule: "table=..,priority=..,cookie=..,<match>,actions=<actions>".
class FlowPrinter {
public:
  FlowPrinter(const Rule &r, size_t index, std::string &out) : r_(r), index_(index), o_(out) {}

  void print() {
    METRON_INTERNAL_ASSERT(r_.table <= kMaxTable, at() + ": OVS has tables 0.." + std::to_string(kMaxTable));
    METRON_INTERNAL_ASSERT(r_.priority <= kMaxPriority, at() + ": OpenFlow priorities are 16-bit");
    o_ += "table=";
    dec(o_, r_.table);
    o_ += ",priority=";
    dec(o_, r_.priority);
    o_ += ",cookie=";
    hex(o_, r_.cookie());
    printMatch();
    o_ += ",actions=";
    printActions();
    o_ += '\n';
  }

private:
  const Rule &r_;
  size_t index_;
  std::string &o_;
  bool ip_ = false;     // the match guarantees IPv4
  uint8_t proto_ = 0;   // the match guarantees this IP protocol (0: none)
  bool tagged_ = false; // the match guarantees an 802.1Q tag

  /// The rule, for internal errors (built only when one fires: the macro evaluates its message lazily).
  std::string at() const { return where(r_, index_); }

  const DeviceMatch *find(FieldId f) const {
    for (const auto &m : r_.match)
      if (m.field == f) return &m;
    return nullptr;
  }
  bool fullMask(const DeviceMatch &m) const { return m.mask == ir::fieldInfo(m.field).maxValue(); }

  void printMatch() {
    for (size_t i = 0; i < r_.match.size(); ++i) {
      const DeviceMatch &m = r_.match[i];
      METRON_INTERNAL_ASSERT(!m.isRange, at() + ": range match on " + fname(m.field) +
                                             " reached the OpenFlow printer (the split expands ranges for OVS)");
      METRON_INTERNAL_ASSERT(m.field != FieldId::InPort,
                             at() + ": in_port in the field matches (Rule::inPort holds the switch port)");
      for (size_t j = 0; j < i; ++j)
        METRON_INTERNAL_ASSERT(r_.match[j].field != m.field, at() + ": two matches on " + fname(m.field));
    }
    const DeviceMatch *ethType = find(FieldId::EthType), *ipProto = find(FieldId::IpProto);
    for (const DeviceMatch *m : {ethType, ipProto})
      if (m && m->mask)
        METRON_INTERNAL_ASSERT(fullMask(*m), at() + ": " + fname(m->field) + " takes no mask in OpenFlow");
    if (ethType && !ethType->mask) ethType = nullptr;
    if (ipProto && !ipProto->mask) ipProto = nullptr;

    // Prerequisites: what the rule says, then what an exact eth.type / ip.proto adds.
    proto_ = r_.proto;
    METRON_INTERNAL_ASSERT(proto_ == 0 || proto_ == 6 || proto_ == 17 || proto_ == 1,
                           at() + ": protocol prerequisite " + std::to_string(proto_) + " is not tcp, udp or icmp");
    ip_ = r_.ipv4 || proto_ != 0;
    METRON_INTERNAL_ASSERT(!(ip_ && ethType), at() + ": eth.type match on a rule whose prerequisites set it");
    METRON_INTERNAL_ASSERT(!(proto_ && ipProto), at() + ": ip.proto match on a rule whose prerequisites set it");
    if (ethType && ethType->value == 0x0800) ip_ = true;
    if (ipProto) {
      METRON_INTERNAL_ASSERT(ip_, at() + ": ip.proto match without the ipv4 prerequisite");
      proto_ = uint8_t(ipProto->value);
    }

    if (r_.inPort) {
      o_ += ",in_port=";
      dec(o_, *r_.inPort);
    }
    switch (r_.proto) {
    case 6: o_ += ",tcp"; break;
    case 17: o_ += ",udp"; break;
    case 1: o_ += ",icmp"; break;
    default:
      if (ethType) {
        o_ += ",dl_type=";
        hex(o_, ethType->value & 0xffff, 4);
      } else if (r_.ipv4) {
        o_ += ",ip";
      }
      if (ipProto) {
        o_ += ",nw_proto=";
        dec(o_, ipProto->value & 0xff);
      }
    }
    printVlan();
    for (const DeviceMatch &m : r_.match) {
      if (!m.mask) continue; // matches everything
      switch (m.field) {
      case FieldId::EthSrc: macMatch(",dl_src=", m); break;
      case FieldId::EthDst: macMatch(",dl_dst=", m); break;
      case FieldId::IpSrc: ipMatch(",nw_src=", m); break;
      case FieldId::IpDst: ipMatch(",nw_dst=", m); break;
      case FieldId::IpTtl: needIp(m), exact(",nw_ttl=", m); break;
      case FieldId::IpDscp: needIp(m), exact(",ip_dscp=", m); break;
      case FieldId::TpSrc:
      case FieldId::TpDst:
        METRON_INTERNAL_ASSERT(proto_ == 6 || proto_ == 17, at() + ": " + std::string(fname(m.field)) +
                                                                " match without the tcp or udp prerequisite");
        o_ += proto_ == 6 ? ",tcp" : ",udp";
        o_ += m.field == FieldId::TpSrc ? "_src=" : "_dst=";
        if (fullMask(m)) {
          dec(o_, m.value);
        } else {
          hex(o_, m.value & m.mask, 4);
          o_ += '/';
          hex(o_, m.mask, 4);
        }
        break;
      case FieldId::TcpFlags:
        METRON_INTERNAL_ASSERT(proto_ == 6, at() + ": tcp.flags match without the tcp prerequisite");
        o_ += ",tcp_flags=";
        hex(o_, m.value & m.mask, 2);
        o_ += '/';
        hex(o_, m.mask, 2);
        break;
      case FieldId::IcmpType:
      case FieldId::IcmpCode:
        METRON_INTERNAL_ASSERT(proto_ == 1, at() + ": " + fname(m.field) + " match without the icmp prerequisite");
        exact(m.field == FieldId::IcmpType ? ",icmp_type=" : ",icmp_code=", m);
        break;
      default: break; // in_port, eth.type, ip.proto, vlan.*: above
      }
    }
  }

  /// vlan.id and vlan.pcp as one vlan_tci value/mask (see the file comment).
  void printVlan() {
    uint32_t value = 0, mask = 0;
    if (const DeviceMatch *m = find(FieldId::VlanId)) {
      value |= uint32_t(m->value & m->mask & 0xfff);
      mask |= uint32_t(m->mask & 0xfff);
    }
    if (const DeviceMatch *m = find(FieldId::VlanPcp)) {
      value |= uint32_t(m->value & m->mask & 7) << 13;
      mask |= uint32_t(m->mask & 7) << 13;
    }
    tagged_ = r_.vlan || value != 0;
    if (tagged_) value |= 0x1000, mask |= 0x1000;
    if (!mask) return;
    o_ += ",vlan_tci=";
    hex(o_, value, 4);
    o_ += '/';
    hex(o_, mask, 4);
  }

  void needIp(const DeviceMatch &m) const {
    METRON_INTERNAL_ASSERT(ip_, at() + ": " + std::string(fname(m.field)) + " match without the ipv4 prerequisite");
  }

  void exact(const char *name, const DeviceMatch &m) {
    METRON_INTERNAL_ASSERT(fullMask(m), at() + ": " + std::string(fname(m.field)) + " takes no mask in OpenFlow");
    o_ += name;
    dec(o_, m.value);
  }

  void macMatch(const char *name, const DeviceMatch &m) {
    o_ += name;
    mac(o_, m.value & m.mask);
    if (fullMask(m)) return;
    o_ += '/';
    mac(o_, m.mask);
  }

  /// A.B.C.D, A.B.C.D/len for a prefix, A.B.C.D/M.M.M.M for any other mask.
  void ipMatch(const char *name, const DeviceMatch &m) {
    needIp(m);
    const uint32_t mask = uint32_t(m.mask), inv = ~mask;
    o_ += name;
    ipv4(o_, uint32_t(m.value) & mask);
    if (mask == 0xffffffffu) return;
    o_ += '/';
    if ((inv & (inv + 1)) == 0)
      dec(o_, 32 - __builtin_popcount(inv));
    else
      ipv4(o_, mask);
  }

  void printActions() {
    const std::vector<Action> &as = r_.actions;
    if (as.empty()) { // an empty action list drops, in OpenFlow as in the IR
      o_ += "drop";
      return;
    }
    bool tagged = tagged_;
    for (size_t i = 0; i < as.size(); ++i) {
      const Action &a = as[i];
      if (i) o_ += ',';
      switch (a.kind) {
      case ActionKind::Drop:
        METRON_INTERNAL_ASSERT(as.size() == 1, at() + ": drop with other actions");
        o_ += "drop";
        break;
      case ActionKind::Jump:
        METRON_INTERNAL_ASSERT(i + 1 == as.size(), at() + ": goto_table must be the last action");
        METRON_INTERNAL_ASSERT(a.value > r_.table && a.value <= kMaxTable,
                               at() + ": goto_table:" + std::to_string(a.value) + " must go to a later table");
        o_ += "goto_table:";
        dec(o_, a.value);
        break;
      case ActionKind::Set: setField(a, tagged); break;
      case ActionKind::DecTtl:
        METRON_INTERNAL_ASSERT(ip_, at() + ": dec_ttl without the ipv4 prerequisite");
        o_ += "dec_ttl";
        break;
      case ActionKind::PushVlan:
        METRON_INTERNAL_ASSERT(a.value <= 0xfff, at() + ": VLAN id " + std::to_string(a.value) + " out of 12 bits");
        o_ += "push_vlan:0x8100,set_field:";
        dec(o_, 0x1000 | a.value);
        o_ += "->vlan_vid";
        tagged = true;
        break;
      case ActionKind::PopVlan:
        METRON_INTERNAL_ASSERT(tagged, at() + ": pop_vlan on a rule that does not match tagged frames");
        o_ += "pop_vlan";
        tagged = false;
        break;
      case ActionKind::Mark:
        METRON_INTERNAL_ASSERT(false, at() + ": mark (an rte_flow action) has no OpenFlow form");
        break;
      case ActionKind::Queue:
        o_ += "set_queue:";
        dec(o_, a.value);
        break;
      case ActionKind::Output:
        METRON_INTERNAL_ASSERT(a.value <= 0xffffff00u, at() + ": output port " + std::to_string(a.value));
        o_ += "output:";
        dec(o_, a.value);
        break;
      }
    }
  }

  void setField(const Action &a, bool tagged) {
    auto check = [&](bool ok, const char *what) {
      METRON_INTERNAL_ASSERT(ok, at() + ": set " + fname(a.field) + " " + std::to_string(a.value) + ": " + what);
    };
    const bool l4 = proto_ == 6 || proto_ == 17;
    if (a.field == FieldId::IpTtl) { // OpenFlow 1.3's set_nw_ttl
      check(ip_, "without the ipv4 prerequisite");
      check(a.value <= 255, "out of 8 bits");
      o_ += "mod_nw_ttl:";
      dec(o_, a.value);
      return;
    }
    o_ += "set_field:";
    switch (a.field) {
    case FieldId::EthSrc: mac(o_, a.value), o_ += "->eth_src"; break;
    case FieldId::EthDst: mac(o_, a.value), o_ += "->eth_dst"; break;
    case FieldId::VlanId:
      check(tagged, "on frames the rule does not know to be tagged (push a tag first)");
      check(a.value <= 0xfff, "out of 12 bits");
      dec(o_, 0x1000 | a.value), o_ += "->vlan_vid";
      break;
    case FieldId::VlanPcp:
      check(tagged, "on frames the rule does not know to be tagged (push a tag first)");
      check(a.value <= 7, "out of 3 bits");
      dec(o_, a.value), o_ += "->vlan_pcp";
      break;
    case FieldId::IpSrc:
    case FieldId::IpDst:
      check(ip_, "without the ipv4 prerequisite");
      ipv4(o_, uint32_t(a.value)), o_ += a.field == FieldId::IpSrc ? "->ip_src" : "->ip_dst";
      break;
    case FieldId::IpDscp:
      check(ip_, "without the ipv4 prerequisite");
      check(a.value <= 63, "out of 6 bits");
      dec(o_, a.value), o_ += "->ip_dscp";
      break;
    case FieldId::TpSrc:
    case FieldId::TpDst:
      check(l4, "without the tcp or udp prerequisite");
      check(a.value <= 0xffff, "out of 16 bits");
      dec(o_, a.value);
      o_ += proto_ == 6 ? "->tcp" : "->udp";
      o_ += a.field == FieldId::TpSrc ? "_src" : "_dst";
      break;
    default: check(false, "is not an OpenFlow write");
    }
  }
};

} // namespace

std::string printFlows(const DeviceRules &r) {
  std::vector<const Rule *> order;
  order.reserve(r.rules.size());
  for (const Rule &x : r.rules) order.push_back(&x);
  std::stable_sort(order.begin(), order.end(), [](const Rule *a, const Rule *b) {
    return a->table != b->table ? a->table < b->table : a->priority > b->priority;
  });
  uint32_t tables = 0;
  for (const Rule *x : order) tables = std::max(tables, x->table + 1);

  std::string out;
  out.reserve(200 + r.rules.size() * 192);
  out += "# OpenFlow 1.3 flows for " + oneLine(r.element) + " (profile " + oneLine(r.profile) +
         "): " + std::to_string(r.rules.size()) + (r.rules.size() == 1 ? " flow" : " flows") + " in " +
         std::to_string(tables) + (tables == 1 ? " table" : " tables") + "\n";
  out += "# install: ovs-ofctl -O OpenFlow13 --bundle add-flows BRIDGE FILE\n";
  out += "# cookie = (role + 1) << 32 | class id; roles: 1 class, 2 mirror, 3 default, 4 path, 5 dispatch, 6 return\n";
  for (size_t i = 0; i < order.size(); ++i) {
    const Rule &x = *order[i];
    if (!x.note.empty()) {
      out += "# ";
      out += oneLine(x.note);
      out += '\n';
    }
    FlowPrinter(x, size_t(order[i] - r.rules.data()), out).print();
  }
  return out;
}

} // namespace metron::targets::openflow
