; ModuleID = 'metron.classify_t0'
source_filename = "metron.classify_t0"

; Function Attrs: mustprogress nofree norecurse nosync nounwind readonly willreturn
define i32 @classify_t0(i64* noalias nocapture readonly %fields) local_unnamed_addr #0 {
entry:
  %ip.proto.p = getelementptr inbounds i64, i64* %fields, i64 8
  %ip.proto = load i64, i64* %ip.proto.p, align 8
  %tp.dst.p = getelementptr inbounds i64, i64* %fields, i64 12
  %tp.dst = load i64, i64* %tp.dst.p, align 8
  %tcp.flags.p = getelementptr inbounds i64, i64* %fields, i64 13
  %tcp.flags = load i64, i64* %tcp.flags.p, align 8
  %0 = icmp eq i64 %ip.proto, 6
  %1 = icmp eq i64 %tp.dst, 80
  %2 = and i1 %0, %1
  br i1 %2, label %common.ret, label %class1

common.ret:                                       ; preds = %class2, %class1, %entry
  %common.ret.op = phi i32 [ 0, %entry ], [ 1, %class1 ], [ %spec.select, %class2 ]
  ret i32 %common.ret.op

class1:                                           ; preds = %entry
  %ip.src.p = getelementptr inbounds i64, i64* %fields, i64 6
  %ip.src = load i64, i64* %ip.src.p, align 8
  %3 = and i64 %ip.src, -16777216
  %4 = icmp eq i64 %3, 167772160
  %5 = add i64 %tp.dst, -1024
  %6 = icmp ult i64 %5, 64512
  %7 = and i1 %6, %4
  br i1 %7, label %common.ret, label %class2

class2:                                           ; preds = %class1
  %8 = and i64 %tcp.flags, 18
  %9 = icmp eq i64 %8, 2
  %spec.select = select i1 %9, i32 2, i32 3
  br label %common.ret
}

attributes #0 = { mustprogress nofree norecurse nosync nounwind readonly willreturn }
