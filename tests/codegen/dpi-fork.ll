; ModuleID = 'metron.c'
source_filename = "metron.c"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.mtr_acl_table = type { i32, i32, i64, i8* }
%struct.mtr_program = type { i32, i32, i8*, i32, i8*, i32, i8*, i8* }

@group_of_t0 = private unnamed_addr constant [3 x i32] [i32 0, i32 1, i32 2]
@metron_entries = private constant [2 x i8*] [i8* bitcast (i32 (i8*, i8*, i64*, i32, i64*)* @metron_core_0 to i8*), i8* bitcast (i32 (i8*, i8*, i64*, i32, i64*)* @metron_core_1 to i8*)]
@metron_acl = private constant [0 x %struct.mtr_acl_table] zeroinitializer
@metron_config = private unnamed_addr constant [1378 x i8] c"{\22chain\22:\22c\22,\22classes\22:[{\22class\22:0,\22group\22:0,\22hw\22:true,\22table\22:0},{\22class\22:1,\22group\22:1,\22hw\22:true,\22table\22:0},{\22class\22:2,\22group\22:2,\22hw\22:true,\22table\22:0},{\22class\22:3,\22group\22:3,\22hw\22:false,\22table\22:1},{\22class\22:4,\22group\22:4,\22hw\22:false,\22table\22:2}],\22cores\22:2,\22egress\22:[\22port1\22,\22port2\22],\22groups\22:[{\22core\22:0,\22group\22:0,\22omega\22:\22drop if ip.ttl<=1; set(ip.ttl-=1 ip.dscp=10); Dpi@ids; goto table 2 if the dpi matched, else table 1\22},{\22core\22:1,\22group\22:1,\22omega\22:\22drop if ip.ttl<=1; set(ip.ttl-=1); Dpi@ids; goto table 2 if the dpi matched, else table 1\22},{\22core\22:-1,\22group\22:2,\22omega\22:\22drop\22},{\22core\22:0,\22group\22:3,\22omega\22:\22Napt@napt; Balance@lb; egress port1\22},{\22core\22:1,\22group\22:4,\22omega\22:\22egress port2\22}],\22ingress\22:[\22port0\22],\22ports\22:[\22port0\22,\22port1\22,\22port2\22],\22server\22:\22server1\22,\22stateful\22:[{\22element\22:0,\22kind\22:\22dpi\22,\22nf\22:\22ids\22,\22node\22:3,\22patterns\22:[{\22flags\22:\22\22,\22id\22:1,\22regex\22:\22attack\22},{\22flags\22:\22i\22,\22id\22:2,\22regex\22:\22GET \\\\/admin\22}],\22set\22:\22lit\22,\22slot\22:0},{\22address\22:3405803777,\22cores\22:[{\22core\22:0,\22ports\22:[1024,65535]}],\22element\22:0,\22field\22:\22ip.src\22,\22kind\22:\22napt\22,\22nf\22:\22napt\22,\22node\22:4,\22ports\22:[1024,65535],\22slot\22:1,\22timeout\22:60},{\22backends\22:[167772417,167772418],\22element\22:0,\22field\22:\22ip.dst\22,\22kind\22:\22balance\22,\22nf\22:\22lb\22,\22node\22:5,\22policy\22:\22round_robin\22,\22slot\22:2}],\22tags\22:[{\22core\22:0,\22group\22:0,\22kind\22:\22mark\22,\22napt_return\22:false,\22value\22:1},{\22core\22:1,\22group\22:1,\22kind\22:\22mark\22,\22napt_return\22:false,\22value\22:2}]}\00"
@metron_program = local_unnamed_addr constant %struct.mtr_program { i32 1, i32 2, i8* bitcast ([2 x i8*]* @metron_entries to i8*), i32 0, i8* bitcast ([0 x %struct.mtr_acl_table]* @metron_acl to i8*), i32 5, i8* getelementptr inbounds ([1378 x i8], [1378 x i8]* @metron_config, i32 0, i32 0), i8* bitcast (i32 (i8*, i64*)* @metron_classify0 to i8*) }

; Function Attrs: nounwind
declare void @mtr_set(i8*, i32, i64) local_unnamed_addr #0

; Function Attrs: nounwind
declare i32 @mtr_stateful(i8*, i32, i8*) local_unnamed_addr #0

; Function Attrs: mustprogress nofree nosync nounwind readnone willreturn
declare i64* @mtr_fields(i8*) local_unnamed_addr #1

; Function Attrs: nounwind
define internal fastcc i32 @table_0(i8* %0, i8* %1, i64* nocapture %2) unnamed_addr #0 {
entry:
  %fields = tail call i64* @mtr_fields(i8* %1)
  %3 = getelementptr inbounds i64, i64* %fields, i64 9
  %ip.ttl = load i64, i64* %3, align 8
  %in_port.i = load i64, i64* %fields, align 8, !alias.scope !0
  %ip.proto.p.i = getelementptr inbounds i64, i64* %fields, i64 8
  %ip.proto.i = load i64, i64* %ip.proto.p.i, align 8, !alias.scope !0
  %tp.dst.p.i = getelementptr inbounds i64, i64* %fields, i64 12
  %tp.dst.i = load i64, i64* %tp.dst.p.i, align 8, !alias.scope !0
  %4 = icmp eq i64 %in_port.i, 0
  %5 = icmp eq i64 %ip.proto.i, 6
  %6 = and i1 %4, %5
  %7 = icmp eq i64 %tp.dst.i, 80
  %8 = and i1 %6, %7
  %9 = icmp eq i64 %ip.proto.i, 17
  %10 = and i1 %4, %9
  %..i = select i1 %4, i32 2, i32 -1
  %spec.select.i = select i1 %10, i32 1, i32 %..i
  %common.ret.op.i = select i1 %8, i32 0, i32 %spec.select.i
  %11 = icmp slt i32 %common.ret.op.i, 0
  br i1 %11, label %common.ret, label %counted

common.ret:                                       ; preds = %st.pass.i.i.i17, %dpi.fork.nomatch.i13, %dpi.fork.match.i10, %ttl.ok.i6, %group1, %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ttl.ok.i, %group0, %entry, %counted
  %common.ret.op = phi i32 [ -1, %entry ], [ 2, %dpi.fork.match.i ], [ -1, %group0 ], [ -1, %ttl.ok.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ], [ 2, %dpi.fork.match.i10 ], [ -1, %group1 ], [ -1, %ttl.ok.i6 ], [ %..i.i.i16, %st.pass.i.i.i17 ], [ -1, %dpi.fork.nomatch.i13 ], [ -1, %counted ]
  ret i32 %common.ret.op

counted:                                          ; preds = %entry
  %12 = zext i32 %common.ret.op.i to i64
  %13 = getelementptr inbounds i64, i64* %2, i64 %12
  %14 = load i64, i64* %13, align 8
  %15 = add i64 %14, 1
  store i64 %15, i64* %13, align 8
  %16 = getelementptr inbounds [3 x i32], [3 x i32]* @group_of_t0, i64 0, i64 %12
  %group = load i32, i32* %16, align 4
  switch i32 %group, label %common.ret [
    i32 0, label %group0
    i32 1, label %group1
  ]

group0:                                           ; preds = %counted
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %group0
  %ttl.dec.i = add i64 %ip.ttl, -1
  tail call void @mtr_set(i8* %1, i32 9, i64 %ttl.dec.i) #0
  tail call void @mtr_set(i8* %1, i32 10, i64 10) #0
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %17 = and i32 %st0.i, 1
  %.not.i = icmp eq i32 %17, 0
  br i1 %.not.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ttl.ok.i
  %18 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %18, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %19 = getelementptr inbounds i64, i64* %2, i64 4
  %20 = load i64, i64* %19, align 8
  %21 = add i64 %20, 1
  store i64 %21, i64* %19, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %22 = getelementptr inbounds i64, i64* %2, i64 3
  %23 = load i64, i64* %22, align 8
  %24 = add i64 %23, 1
  store i64 %24, i64* %22, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %25 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %25, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %26 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %26, 0
  %..i.i.i = select i1 %.not1.i.i.i, i32 1, i32 -1
  br label %common.ret

group1:                                           ; preds = %counted
  %ttl.expired.i2 = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i2, label %common.ret, label %ttl.ok.i6

ttl.ok.i6:                                        ; preds = %group1
  %ttl.dec.i3 = add i64 %ip.ttl, -1
  tail call void @mtr_set(i8* %1, i32 9, i64 %ttl.dec.i3) #0
  %st0.i4 = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %27 = and i32 %st0.i4, 1
  %.not.i5 = icmp eq i32 %27, 0
  br i1 %.not.i5, label %st.pass.i9, label %common.ret

st.pass.i9:                                       ; preds = %ttl.ok.i6
  %28 = and i32 %st0.i4, 2
  %dpi.matched.not.i8 = icmp eq i32 %28, 0
  br i1 %dpi.matched.not.i8, label %dpi.fork.nomatch.i13, label %dpi.fork.match.i10

dpi.fork.match.i10:                               ; preds = %st.pass.i9
  %29 = getelementptr inbounds i64, i64* %2, i64 4
  %30 = load i64, i64* %29, align 8
  %31 = add i64 %30, 1
  store i64 %31, i64* %29, align 8
  br label %common.ret

dpi.fork.nomatch.i13:                             ; preds = %st.pass.i9
  %32 = getelementptr inbounds i64, i64* %2, i64 3
  %33 = load i64, i64* %32, align 8
  %34 = add i64 %33, 1
  store i64 %34, i64* %32, align 8
  %st1.i.i.i11 = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %35 = and i32 %st1.i.i.i11, 1
  %.not.i.i.i12 = icmp eq i32 %35, 0
  br i1 %.not.i.i.i12, label %st.pass.i.i.i17, label %common.ret

st.pass.i.i.i17:                                  ; preds = %dpi.fork.nomatch.i13
  %st2.i.i.i14 = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %36 = and i32 %st2.i.i.i14, 1
  %.not1.i.i.i15 = icmp eq i32 %36, 0
  %..i.i.i16 = select i1 %.not1.i.i.i15, i32 1, i32 -1
  br label %common.ret
}

; Function Attrs: nounwind
define i32 @metron_core_0(i8* %0, i8* %1, i64* nocapture readonly %2, i32 %3, i64* nocapture %4) #0 {
entry:
  %cond = icmp eq i32 %3, 1
  br i1 %cond, label %tag1, label %software

common.ret:                                       ; preds = %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ttl.ok.i, %tag1, %software
  %common.ret.op = phi i32 [ %5, %software ], [ 2, %dpi.fork.match.i ], [ -1, %tag1 ], [ -1, %ttl.ok.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ]
  ret i32 %common.ret.op

software:                                         ; preds = %entry
  %5 = tail call fastcc i32 @table_0(i8* %0, i8* %1, i64* %4)
  br label %common.ret

tag1:                                             ; preds = %entry
  %6 = getelementptr inbounds i64, i64* %2, i64 9
  %ip.ttl = load i64, i64* %6, align 8
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %tag1
  %ttl.dec.i = add i64 %ip.ttl, -1
  tail call void @mtr_set(i8* %1, i32 9, i64 %ttl.dec.i) #0
  tail call void @mtr_set(i8* %1, i32 10, i64 10) #0
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %7 = and i32 %st0.i, 1
  %.not.i = icmp eq i32 %7, 0
  br i1 %.not.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ttl.ok.i
  %8 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %8, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %9 = getelementptr inbounds i64, i64* %4, i64 4
  %10 = load i64, i64* %9, align 8
  %11 = add i64 %10, 1
  store i64 %11, i64* %9, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %12 = getelementptr inbounds i64, i64* %4, i64 3
  %13 = load i64, i64* %12, align 8
  %14 = add i64 %13, 1
  store i64 %14, i64* %12, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %15 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %15, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %16 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %16, 0
  %..i.i.i = select i1 %.not1.i.i.i, i32 1, i32 -1
  br label %common.ret
}

; Function Attrs: nounwind
define i32 @metron_core_1(i8* %0, i8* %1, i64* nocapture readonly %2, i32 %3, i64* nocapture %4) #0 {
entry:
  %cond = icmp eq i32 %3, 2
  br i1 %cond, label %tag2, label %software

common.ret:                                       ; preds = %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ttl.ok.i, %tag2, %software
  %common.ret.op = phi i32 [ %5, %software ], [ 2, %dpi.fork.match.i ], [ -1, %tag2 ], [ -1, %ttl.ok.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ]
  ret i32 %common.ret.op

software:                                         ; preds = %entry
  %5 = tail call fastcc i32 @table_0(i8* %0, i8* %1, i64* %4)
  br label %common.ret

tag2:                                             ; preds = %entry
  %6 = getelementptr inbounds i64, i64* %2, i64 9
  %ip.ttl = load i64, i64* %6, align 8
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %tag2
  %ttl.dec.i = add i64 %ip.ttl, -1
  tail call void @mtr_set(i8* %1, i32 9, i64 %ttl.dec.i) #0
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %7 = and i32 %st0.i, 1
  %.not.i = icmp eq i32 %7, 0
  br i1 %.not.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ttl.ok.i
  %8 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %8, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %9 = getelementptr inbounds i64, i64* %4, i64 4
  %10 = load i64, i64* %9, align 8
  %11 = add i64 %10, 1
  store i64 %11, i64* %9, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %12 = getelementptr inbounds i64, i64* %4, i64 3
  %13 = load i64, i64* %12, align 8
  %14 = add i64 %13, 1
  store i64 %14, i64* %12, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %15 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %15, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %16 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %16, 0
  %..i.i.i = select i1 %.not1.i.i.i, i32 1, i32 -1
  br label %common.ret
}

; Function Attrs: mustprogress nofree nosync nounwind willreturn
define internal i32 @metron_classify0(i8* nocapture readnone %0, i64* nocapture readonly %1) #2 {
entry:
  %in_port.i = load i64, i64* %1, align 8, !alias.scope !3
  %ip.proto.p.i = getelementptr inbounds i64, i64* %1, i64 8
  %ip.proto.i = load i64, i64* %ip.proto.p.i, align 8, !alias.scope !3
  %tp.dst.p.i = getelementptr inbounds i64, i64* %1, i64 12
  %tp.dst.i = load i64, i64* %tp.dst.p.i, align 8, !alias.scope !3
  %2 = icmp eq i64 %in_port.i, 0
  %3 = icmp eq i64 %ip.proto.i, 6
  %4 = and i1 %2, %3
  %5 = icmp eq i64 %tp.dst.i, 80
  %6 = and i1 %4, %5
  %7 = icmp eq i64 %ip.proto.i, 17
  %8 = and i1 %2, %7
  %..i = select i1 %2, i32 2, i32 -1
  %spec.select.i = select i1 %8, i32 1, i32 %..i
  %common.ret.op.i = select i1 %6, i32 0, i32 %spec.select.i
  ret i32 %common.ret.op.i
}

attributes #0 = { nounwind }
attributes #1 = { mustprogress nofree nosync nounwind readnone willreturn }
attributes #2 = { mustprogress nofree nosync nounwind willreturn }

!0 = !{!1}
!1 = distinct !{!1, !2, !"classify_t0: %fields"}
!2 = distinct !{!2, !"classify_t0"}
!3 = !{!4}
!4 = distinct !{!4, !5, !"classify_t0: %fields"}
!5 = distinct !{!5, !"classify_t0"}
