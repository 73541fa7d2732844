; ModuleID = 'metron.c'
source_filename = "metron.c"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.mtr_acl_table = type { i32, i32, i64, i8* }
%struct.mtr_program = type { i32, i32, i8*, i32, i8*, i32, i8*, i8* }

@group_of_t0 = private unnamed_addr constant [3 x i32] [i32 0, i32 1, i32 2]
@metron_entries = private constant [2 x i8*] [i8* bitcast (i32 (i8*, i8*, i64*, i32, i64*)* @metron_core_0 to i8*), i8* bitcast (i32 (i8*, i8*, i64*, i32, i64*)* @metron_core_1 to i8*)]
@metron_acl = private constant [0 x %struct.mtr_acl_table] zeroinitializer
@metron_config = private unnamed_addr constant [1396 x i8] c"{\22chain\22:\22c\22,\22classes\22:[{\22class\22:0,\22group\22:0,\22hw\22:true,\22table\22:0},{\22class\22:1,\22group\22:1,\22hw\22:true,\22table\22:0},{\22class\22:2,\22group\22:2,\22hw\22:true,\22table\22:0},{\22class\22:3,\22group\22:3,\22hw\22:false,\22table\22:1},{\22class\22:4,\22group\22:4,\22hw\22:false,\22table\22:2}],\22cores\22:2,\22egress\22:[\22port1\22,\22port2\22],\22groups\22:[{\22core\22:0,\22group\22:0,\22omega\22:\22drop if ip.ttl<=1; set(ip.ttl-=1 ip.dscp=10); Dpi@ids; goto table 2 if the dpi matched, else table 1\22},{\22core\22:1,\22group\22:1,\22omega\22:\22drop if ip.ttl<=1; set(ip.ttl-=1); Dpi@ids; goto table 2 if the dpi matched, else table 1\22},{\22core\22:-1,\22group\22:2,\22omega\22:\22drop\22},{\22core\22:0,\22group\22:3,\22omega\22:\22Napt@napt; Balance@lb; egress port1\22},{\22core\22:1,\22group\22:4,\22omega\22:\22egress port2\22}],\22ingress\22:[\22port0\22],\22ports\22:[\22port0\22,\22port1\22,\22port2\22],\22server\22:\22server1\22,\22stateful\22:[{\22element\22:0,\22kind\22:\22dpi\22,\22nf\22:\22ids\22,\22node\22:3,\22patterns\22:[{\22flags\22:\22\22,\22id\22:1,\22line\22:1,\22regex\22:\22attack\22},{\22flags\22:\22i\22,\22id\22:2,\22line\22:2,\22regex\22:\22GET \\\\/admin\22}],\22set\22:\22lit\22,\22slot\22:0},{\22address\22:3405803777,\22cores\22:[{\22core\22:0,\22ports\22:[1024,65535]}],\22element\22:0,\22field\22:\22ip.src\22,\22kind\22:\22napt\22,\22nf\22:\22napt\22,\22node\22:4,\22ports\22:[1024,65535],\22slot\22:1,\22timeout\22:60},{\22backends\22:[167772417,167772418],\22element\22:0,\22field\22:\22ip.dst\22,\22kind\22:\22balance\22,\22nf\22:\22lb\22,\22node\22:5,\22policy\22:\22round_robin\22,\22slot\22:2}],\22tags\22:[{\22core\22:0,\22group\22:0,\22kind\22:\22mark\22,\22napt_return\22:false,\22value\22:1},{\22core\22:1,\22group\22:1,\22kind\22:\22mark\22,\22napt_return\22:false,\22value\22:2}]}\00"
@metron_program = local_unnamed_addr constant %struct.mtr_program { i32 2, i32 2, i8* bitcast ([2 x i8*]* @metron_entries to i8*), i32 0, i8* bitcast ([0 x %struct.mtr_acl_table]* @metron_acl to i8*), i32 5, i8* getelementptr inbounds ([1396 x i8], [1396 x i8]* @metron_config, i32 0, i32 0), i8* bitcast (i32 (i8*, i64*)* @metron_classify0 to i8*) }

; Function Attrs: nounwind
declare i32 @mtr_stateful(i8*, i32, i8*) local_unnamed_addr #0

; Function Attrs: nounwind
define internal fastcc i32 @table_0(i8* %0, i8* %1, i64* nocapture %2, i64* nocapture %3) unnamed_addr #0 {
entry:
  %4 = getelementptr inbounds i64, i64* %2, i64 9
  %ip.ttl = load i64, i64* %4, align 8
  %in_port.i = load i64, i64* %2, align 8, !alias.scope !0
  %ip.proto.p.i = getelementptr inbounds i64, i64* %2, i64 8
  %ip.proto.i = load i64, i64* %ip.proto.p.i, align 8, !alias.scope !0
  %tp.dst.p.i = getelementptr inbounds i64, i64* %2, i64 12
  %tp.dst.i = load i64, i64* %tp.dst.p.i, align 8, !alias.scope !0
  %5 = icmp eq i64 %in_port.i, 0
  %6 = icmp eq i64 %ip.proto.i, 6
  %7 = and i1 %5, %6
  %8 = icmp eq i64 %tp.dst.i, 80
  %9 = and i1 %7, %8
  %10 = icmp eq i64 %ip.proto.i, 17
  %11 = and i1 %5, %10
  %..i = select i1 %5, i32 2, i32 -1
  %spec.select.i = select i1 %11, i32 1, i32 %..i
  %common.ret.op.i = select i1 %9, i32 0, i32 %spec.select.i
  %12 = icmp slt i32 %common.ret.op.i, 0
  br i1 %12, label %common.ret, label %counted

common.ret:                                       ; preds = %st.pass.i.i.i24, %dpi.fork.nomatch.i20, %dpi.fork.match.i17, %ip.done.i14, %group1, %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ip.done.i, %group0, %entry, %counted
  %common.ret.op = phi i32 [ -1, %entry ], [ 2, %dpi.fork.match.i ], [ -1, %group0 ], [ -1, %ip.done.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ], [ 2, %dpi.fork.match.i17 ], [ -1, %group1 ], [ -1, %ip.done.i14 ], [ %..i.i.i23, %st.pass.i.i.i24 ], [ -1, %dpi.fork.nomatch.i20 ], [ -1, %counted ]
  ret i32 %common.ret.op

counted:                                          ; preds = %entry
  %13 = zext i32 %common.ret.op.i to i64
  %14 = getelementptr inbounds i64, i64* %3, i64 %13
  %15 = load i64, i64* %14, align 8
  %16 = add i64 %15, 1
  store i64 %16, i64* %14, align 8
  %17 = getelementptr inbounds [3 x i32], [3 x i32]* @group_of_t0, i64 0, i64 %13
  %group = load i32, i32* %17, align 4
  switch i32 %group, label %common.ret [
    i32 0, label %group0
    i32 1, label %group1
  ]

group0:                                           ; preds = %counted
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %group0
  %ttl.dec.i = add i64 %ip.ttl, 255
  %18 = and i64 %ttl.dec.i, 255
  store i64 %18, i64* %4, align 8
  %19 = getelementptr inbounds i64, i64* %2, i64 10
  store i64 10, i64* %19, align 8
  %20 = bitcast i64* %2 to i8*
  %21 = getelementptr inbounds i8, i8* %20, i64 147
  %ipv4.i = load i8, i8* %21, align 1
  %.not.i = icmp eq i8 %ipv4.i, 0
  br i1 %.not.i, label %ip.done.i, label %ip.i

ip.i:                                             ; preds = %ttl.ok.i
  %22 = getelementptr inbounds i64, i64* %2, i64 16
  %23 = bitcast i64* %22 to i8**
  %frame.i = load i8*, i8** %23, align 8
  %24 = getelementptr inbounds i8, i8* %20, i64 140
  %25 = bitcast i8* %24 to i16*
  %l3.i = load i16, i16* %25, align 2
  %26 = zext i16 %l3.i to i64
  %ip1.i = getelementptr inbounds i8, i8* %frame.i, i64 %26
  %27 = getelementptr inbounds i8, i8* %ip1.i, i64 8
  %28 = bitcast i8* %27 to i16*
  %29 = load i16, i16* %28, align 1
  %30 = tail call i16 @llvm.bswap.i16(i16 %29) #0
  %31 = zext i16 %30 to i64
  %32 = and i64 %31, 255
  %33 = shl nuw nsw i64 %18, 8
  %34 = or i64 %32, %33
  %35 = trunc i64 %34 to i16
  %36 = tail call i16 @llvm.bswap.i16(i16 %35) #0
  store i16 %36, i16* %28, align 1
  %37 = xor i64 %31, 65535
  %38 = bitcast i8* %ip1.i to i16*
  %39 = load i16, i16* %38, align 1
  %40 = tail call i16 @llvm.bswap.i16(i16 %39) #0
  %41 = zext i16 %40 to i64
  %42 = and i64 %41, 65283
  %43 = or i64 %42, 40
  %44 = trunc i64 %43 to i16
  %45 = tail call i16 @llvm.bswap.i16(i16 %44) #0
  store i16 %45, i16* %38, align 1
  %46 = xor i64 %41, 65535
  %47 = getelementptr inbounds i8, i8* %ip1.i, i64 10
  %48 = bitcast i8* %47 to i16*
  %49 = load i16, i16* %48, align 1
  %50 = xor i16 %49, -1
  %51 = tail call i16 @llvm.bswap.i16(i16 %50) #0
  %52 = zext i16 %51 to i64
  %53 = add nuw nsw i64 %34, %37
  %54 = add nuw nsw i64 %53, %46
  %55 = add nuw nsw i64 %54, %43
  %56 = add nuw nsw i64 %55, %52
  %57 = lshr i64 %56, 16
  %58 = and i64 %56, 65535
  %59 = add nuw nsw i64 %58, %57
  %60 = lshr i64 %59, 16
  %61 = add nuw nsw i64 %60, %59
  %62 = trunc i64 %61 to i16
  %63 = xor i16 %62, -1
  %64 = tail call i16 @llvm.bswap.i16(i16 %63) #0
  store i16 %64, i16* %48, align 1
  br label %ip.done.i

ip.done.i:                                        ; preds = %ip.i, %ttl.ok.i
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %65 = and i32 %st0.i, 1
  %.not1.i = icmp eq i32 %65, 0
  br i1 %.not1.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ip.done.i
  %66 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %66, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %67 = getelementptr inbounds i64, i64* %3, i64 4
  %68 = load i64, i64* %67, align 8
  %69 = add i64 %68, 1
  store i64 %69, i64* %67, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %70 = getelementptr inbounds i64, i64* %3, i64 3
  %71 = load i64, i64* %70, align 8
  %72 = add i64 %71, 1
  store i64 %72, i64* %70, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %73 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %73, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %74 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %74, 0
  %..i.i.i = select i1 %.not1.i.i.i, i32 1, i32 -1
  br label %common.ret

group1:                                           ; preds = %counted
  %ttl.expired.i2 = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i2, label %common.ret, label %ttl.ok.i6

ttl.ok.i6:                                        ; preds = %group1
  %ttl.dec.i3 = add i64 %ip.ttl, 255
  %75 = and i64 %ttl.dec.i3, 255
  store i64 %75, i64* %4, align 8
  %76 = bitcast i64* %2 to i8*
  %77 = getelementptr inbounds i8, i8* %76, i64 147
  %ipv4.i4 = load i8, i8* %77, align 1
  %.not.i5 = icmp eq i8 %ipv4.i4, 0
  br i1 %.not.i5, label %ip.done.i14, label %ip.i11

ip.i11:                                           ; preds = %ttl.ok.i6
  %78 = getelementptr inbounds i64, i64* %2, i64 16
  %79 = bitcast i64* %78 to i8**
  %frame.i8 = load i8*, i8** %79, align 8
  %80 = getelementptr inbounds i8, i8* %76, i64 140
  %81 = bitcast i8* %80 to i16*
  %l3.i9 = load i16, i16* %81, align 2
  %82 = zext i16 %l3.i9 to i64
  %ip1.i10 = getelementptr inbounds i8, i8* %frame.i8, i64 %82
  %83 = getelementptr inbounds i8, i8* %ip1.i10, i64 8
  %84 = bitcast i8* %83 to i16*
  %85 = load i16, i16* %84, align 1
  %86 = tail call i16 @llvm.bswap.i16(i16 %85) #0
  %87 = zext i16 %86 to i64
  %88 = and i64 %87, 255
  %89 = shl nuw nsw i64 %75, 8
  %90 = or i64 %88, %89
  %91 = trunc i64 %90 to i16
  %92 = tail call i16 @llvm.bswap.i16(i16 %91) #0
  store i16 %92, i16* %84, align 1
  %93 = xor i64 %87, 65535
  %94 = add nuw nsw i64 %90, %93
  %95 = getelementptr inbounds i8, i8* %ip1.i10, i64 10
  %96 = bitcast i8* %95 to i16*
  %97 = load i16, i16* %96, align 1
  %98 = xor i16 %97, -1
  %99 = tail call i16 @llvm.bswap.i16(i16 %98) #0
  %100 = zext i16 %99 to i64
  %101 = add nuw nsw i64 %94, %100
  %102 = lshr i64 %101, 16
  %103 = and i64 %101, 65535
  %104 = add nuw nsw i64 %103, %102
  %105 = lshr i64 %104, 16
  %106 = add nuw nsw i64 %105, %104
  %107 = trunc i64 %106 to i16
  %108 = xor i16 %107, -1
  %109 = tail call i16 @llvm.bswap.i16(i16 %108) #0
  store i16 %109, i16* %96, align 1
  br label %ip.done.i14

ip.done.i14:                                      ; preds = %ip.i11, %ttl.ok.i6
  %st0.i12 = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %110 = and i32 %st0.i12, 1
  %.not1.i13 = icmp eq i32 %110, 0
  br i1 %.not1.i13, label %st.pass.i16, label %common.ret

st.pass.i16:                                      ; preds = %ip.done.i14
  %111 = and i32 %st0.i12, 2
  %dpi.matched.not.i15 = icmp eq i32 %111, 0
  br i1 %dpi.matched.not.i15, label %dpi.fork.nomatch.i20, label %dpi.fork.match.i17

dpi.fork.match.i17:                               ; preds = %st.pass.i16
  %112 = getelementptr inbounds i64, i64* %3, i64 4
  %113 = load i64, i64* %112, align 8
  %114 = add i64 %113, 1
  store i64 %114, i64* %112, align 8
  br label %common.ret

dpi.fork.nomatch.i20:                             ; preds = %st.pass.i16
  %115 = getelementptr inbounds i64, i64* %3, i64 3
  %116 = load i64, i64* %115, align 8
  %117 = add i64 %116, 1
  store i64 %117, i64* %115, align 8
  %st1.i.i.i18 = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %118 = and i32 %st1.i.i.i18, 1
  %.not.i.i.i19 = icmp eq i32 %118, 0
  br i1 %.not.i.i.i19, label %st.pass.i.i.i24, label %common.ret

st.pass.i.i.i24:                                  ; preds = %dpi.fork.nomatch.i20
  %st2.i.i.i21 = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %119 = and i32 %st2.i.i.i21, 1
  %.not1.i.i.i22 = icmp eq i32 %119, 0
  %..i.i.i23 = select i1 %.not1.i.i.i22, i32 1, i32 -1
  br label %common.ret
}

; Function Attrs: mustprogress nofree nosync nounwind readnone speculatable willreturn
declare i16 @llvm.bswap.i16(i16) #1

; Function Attrs: nounwind
define i32 @metron_core_0(i8* %0, i8* %1, i64* nocapture %2, i32 %3, i64* nocapture %4) #0 {
entry:
  %cond = icmp eq i32 %3, 1
  br i1 %cond, label %tag1, label %software

common.ret:                                       ; preds = %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ip.done.i, %tag1, %software
  %common.ret.op = phi i32 [ %5, %software ], [ 2, %dpi.fork.match.i ], [ -1, %tag1 ], [ -1, %ip.done.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ]
  ret i32 %common.ret.op

software:                                         ; preds = %entry
  %5 = tail call fastcc i32 @table_0(i8* %0, i8* %1, i64* %2, i64* %4)
  br label %common.ret

tag1:                                             ; preds = %entry
  %6 = getelementptr inbounds i64, i64* %2, i64 9
  %ip.ttl = load i64, i64* %6, align 8
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %tag1
  %ttl.dec.i = add i64 %ip.ttl, 255
  %7 = and i64 %ttl.dec.i, 255
  store i64 %7, i64* %6, align 8
  %8 = getelementptr inbounds i64, i64* %2, i64 10
  store i64 10, i64* %8, align 8
  %9 = bitcast i64* %2 to i8*
  %10 = getelementptr inbounds i8, i8* %9, i64 147
  %ipv4.i = load i8, i8* %10, align 1
  %.not.i = icmp eq i8 %ipv4.i, 0
  br i1 %.not.i, label %ip.done.i, label %ip.i

ip.i:                                             ; preds = %ttl.ok.i
  %11 = getelementptr inbounds i64, i64* %2, i64 16
  %12 = bitcast i64* %11 to i8**
  %frame.i = load i8*, i8** %12, align 8
  %13 = getelementptr inbounds i8, i8* %9, i64 140
  %14 = bitcast i8* %13 to i16*
  %l3.i = load i16, i16* %14, align 2
  %15 = zext i16 %l3.i to i64
  %ip1.i = getelementptr inbounds i8, i8* %frame.i, i64 %15
  %16 = getelementptr inbounds i8, i8* %ip1.i, i64 8
  %17 = bitcast i8* %16 to i16*
  %18 = load i16, i16* %17, align 1
  %19 = tail call i16 @llvm.bswap.i16(i16 %18) #0
  %20 = zext i16 %19 to i64
  %21 = and i64 %20, 255
  %22 = shl nuw nsw i64 %7, 8
  %23 = or i64 %21, %22
  %24 = trunc i64 %23 to i16
  %25 = tail call i16 @llvm.bswap.i16(i16 %24) #0
  store i16 %25, i16* %17, align 1
  %26 = xor i64 %20, 65535
  %27 = bitcast i8* %ip1.i to i16*
  %28 = load i16, i16* %27, align 1
  %29 = tail call i16 @llvm.bswap.i16(i16 %28) #0
  %30 = zext i16 %29 to i64
  %31 = and i64 %30, 65283
  %32 = or i64 %31, 40
  %33 = trunc i64 %32 to i16
  %34 = tail call i16 @llvm.bswap.i16(i16 %33) #0
  store i16 %34, i16* %27, align 1
  %35 = xor i64 %30, 65535
  %36 = getelementptr inbounds i8, i8* %ip1.i, i64 10
  %37 = bitcast i8* %36 to i16*
  %38 = load i16, i16* %37, align 1
  %39 = xor i16 %38, -1
  %40 = tail call i16 @llvm.bswap.i16(i16 %39) #0
  %41 = zext i16 %40 to i64
  %42 = add nuw nsw i64 %23, %26
  %43 = add nuw nsw i64 %42, %35
  %44 = add nuw nsw i64 %43, %32
  %45 = add nuw nsw i64 %44, %41
  %46 = lshr i64 %45, 16
  %47 = and i64 %45, 65535
  %48 = add nuw nsw i64 %47, %46
  %49 = lshr i64 %48, 16
  %50 = add nuw nsw i64 %49, %48
  %51 = trunc i64 %50 to i16
  %52 = xor i16 %51, -1
  %53 = tail call i16 @llvm.bswap.i16(i16 %52) #0
  store i16 %53, i16* %37, align 1
  br label %ip.done.i

ip.done.i:                                        ; preds = %ip.i, %ttl.ok.i
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %54 = and i32 %st0.i, 1
  %.not1.i = icmp eq i32 %54, 0
  br i1 %.not1.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ip.done.i
  %55 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %55, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %56 = getelementptr inbounds i64, i64* %4, i64 4
  %57 = load i64, i64* %56, align 8
  %58 = add i64 %57, 1
  store i64 %58, i64* %56, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %59 = getelementptr inbounds i64, i64* %4, i64 3
  %60 = load i64, i64* %59, align 8
  %61 = add i64 %60, 1
  store i64 %61, i64* %59, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %62 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %62, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %63 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %63, 0
  %..i.i.i = select i1 %.not1.i.i.i, i32 1, i32 -1
  br label %common.ret
}

; Function Attrs: nounwind
define i32 @metron_core_1(i8* %0, i8* %1, i64* nocapture %2, i32 %3, i64* nocapture %4) #0 {
entry:
  %cond = icmp eq i32 %3, 2
  br i1 %cond, label %tag2, label %software

common.ret:                                       ; preds = %st.pass.i.i.i, %dpi.fork.nomatch.i, %dpi.fork.match.i, %ip.done.i, %tag2, %software
  %common.ret.op = phi i32 [ %5, %software ], [ 2, %dpi.fork.match.i ], [ -1, %tag2 ], [ -1, %ip.done.i ], [ %..i.i.i, %st.pass.i.i.i ], [ -1, %dpi.fork.nomatch.i ]
  ret i32 %common.ret.op

software:                                         ; preds = %entry
  %5 = tail call fastcc i32 @table_0(i8* %0, i8* %1, i64* %2, i64* %4)
  br label %common.ret

tag2:                                             ; preds = %entry
  %6 = getelementptr inbounds i64, i64* %2, i64 9
  %ip.ttl = load i64, i64* %6, align 8
  %ttl.expired.i = icmp ult i64 %ip.ttl, 2
  br i1 %ttl.expired.i, label %common.ret, label %ttl.ok.i

ttl.ok.i:                                         ; preds = %tag2
  %ttl.dec.i = add i64 %ip.ttl, 255
  %7 = and i64 %ttl.dec.i, 255
  store i64 %7, i64* %6, align 8
  %8 = bitcast i64* %2 to i8*
  %9 = getelementptr inbounds i8, i8* %8, i64 147
  %ipv4.i = load i8, i8* %9, align 1
  %.not.i = icmp eq i8 %ipv4.i, 0
  br i1 %.not.i, label %ip.done.i, label %ip.i

ip.i:                                             ; preds = %ttl.ok.i
  %10 = getelementptr inbounds i64, i64* %2, i64 16
  %11 = bitcast i64* %10 to i8**
  %frame.i = load i8*, i8** %11, align 8
  %12 = getelementptr inbounds i8, i8* %8, i64 140
  %13 = bitcast i8* %12 to i16*
  %l3.i = load i16, i16* %13, align 2
  %14 = zext i16 %l3.i to i64
  %ip1.i = getelementptr inbounds i8, i8* %frame.i, i64 %14
  %15 = getelementptr inbounds i8, i8* %ip1.i, i64 8
  %16 = bitcast i8* %15 to i16*
  %17 = load i16, i16* %16, align 1
  %18 = tail call i16 @llvm.bswap.i16(i16 %17) #0
  %19 = zext i16 %18 to i64
  %20 = and i64 %19, 255
  %21 = shl nuw nsw i64 %7, 8
  %22 = or i64 %20, %21
  %23 = trunc i64 %22 to i16
  %24 = tail call i16 @llvm.bswap.i16(i16 %23) #0
  store i16 %24, i16* %16, align 1
  %25 = xor i64 %19, 65535
  %26 = add nuw nsw i64 %22, %25
  %27 = getelementptr inbounds i8, i8* %ip1.i, i64 10
  %28 = bitcast i8* %27 to i16*
  %29 = load i16, i16* %28, align 1
  %30 = xor i16 %29, -1
  %31 = tail call i16 @llvm.bswap.i16(i16 %30) #0
  %32 = zext i16 %31 to i64
  %33 = add nuw nsw i64 %26, %32
  %34 = lshr i64 %33, 16
  %35 = and i64 %33, 65535
  %36 = add nuw nsw i64 %35, %34
  %37 = lshr i64 %36, 16
  %38 = add nuw nsw i64 %37, %36
  %39 = trunc i64 %38 to i16
  %40 = xor i16 %39, -1
  %41 = tail call i16 @llvm.bswap.i16(i16 %40) #0
  store i16 %41, i16* %28, align 1
  br label %ip.done.i

ip.done.i:                                        ; preds = %ip.i, %ttl.ok.i
  %st0.i = tail call i32 @mtr_stateful(i8* %0, i32 0, i8* %1) #0
  %42 = and i32 %st0.i, 1
  %.not1.i = icmp eq i32 %42, 0
  br i1 %.not1.i, label %st.pass.i, label %common.ret

st.pass.i:                                        ; preds = %ip.done.i
  %43 = and i32 %st0.i, 2
  %dpi.matched.not.i = icmp eq i32 %43, 0
  br i1 %dpi.matched.not.i, label %dpi.fork.nomatch.i, label %dpi.fork.match.i

dpi.fork.match.i:                                 ; preds = %st.pass.i
  %44 = getelementptr inbounds i64, i64* %4, i64 4
  %45 = load i64, i64* %44, align 8
  %46 = add i64 %45, 1
  store i64 %46, i64* %44, align 8
  br label %common.ret

dpi.fork.nomatch.i:                               ; preds = %st.pass.i
  %47 = getelementptr inbounds i64, i64* %4, i64 3
  %48 = load i64, i64* %47, align 8
  %49 = add i64 %48, 1
  store i64 %49, i64* %47, align 8
  %st1.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 1, i8* %1) #0
  %50 = and i32 %st1.i.i.i, 1
  %.not.i.i.i = icmp eq i32 %50, 0
  br i1 %.not.i.i.i, label %st.pass.i.i.i, label %common.ret

st.pass.i.i.i:                                    ; preds = %dpi.fork.nomatch.i
  %st2.i.i.i = tail call i32 @mtr_stateful(i8* %0, i32 2, i8* %1) #0
  %51 = and i32 %st2.i.i.i, 1
  %.not1.i.i.i = icmp eq i32 %51, 0
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
attributes #1 = { mustprogress nofree nosync nounwind readnone speculatable willreturn }
attributes #2 = { mustprogress nofree nosync nounwind willreturn }

!0 = !{!1}
!1 = distinct !{!1, !2, !"classify_t0: %fields"}
!2 = distinct !{!2, !"classify_t0"}
!3 = !{!4}
!4 = distinct !{!4, !5, !"classify_t0: %fields"}
!5 = distinct !{!5, !"classify_t0"}
