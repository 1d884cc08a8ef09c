"""Reference data and code generators for the demo landing set.

Kaizhou's towns and streets, its departments and their service items, Chinese personal names,
and vectorised generators of identity numbers (GB 11643) and credit codes (GB 32100) whose
check characters are valid. Plain data and NumPy; no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import numpy as np

# Naive local times (Asia/Shanghai) travel through the generators as int64 seconds since
# 1970-01-01 00:00 *local*; the writers turn them back into wall-clock text, never into UTC.
DAY = 86_400
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - EPOCH).days


def seconds(d: date, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return day_number(d) * DAY + hour * 3600 + minute * 60 + second


def clock(t: datetime) -> int:
    """A naive local datetime as seconds on the generators' local clock."""
    return seconds(t.date(), t.hour, t.minute, t.second)


# 开州区: 7 streets (街道) and 33 towns/townships (镇/乡). Urban streets hold most businesses.
# fmt: off
STREETS: tuple[str, ...] = (
    "汉丰街道", "文峰街道", "云枫街道", "镇东街道", "丰乐街道", "白鹤街道", "赵家街道",
)
TOWNS: tuple[str, ...] = (
    "大德镇", "镇安镇", "厚坝镇", "金峰镇", "温泉镇", "郭家镇", "白桥镇", "和谦镇", "河堰镇",
    "大进镇", "谭家镇", "敦好镇", "高桥镇", "九龙山镇", "天和镇", "中和镇", "义和镇", "临江镇",
    "竹溪镇", "铁桥镇", "南雅镇", "巫山镇", "岳溪镇", "长沙镇", "南门镇", "渠口镇", "满月镇",
    "关面乡", "白泉乡", "麻柳乡", "紫水乡", "三汇口乡", "五通乡",
)
# fmt: on
TOWNSHIPS: tuple[str, ...] = STREETS + TOWNS
TOWNSHIP_WEIGHTS = np.array([9.0, 7.0, 6.0, 5.0, 4.0, 3.0, 3.0] + [1.0] * len(TOWNS))
TOWNSHIP_WEIGHTS /= TOWNSHIP_WEIGHTS.sum()

# fmt: off
SURNAMES: tuple[str, ...] = (
    "张", "王", "李", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "邓", "谭", "冉", "向", "彭", "熊", "唐", "曾", "田", "余", "袁", "蒋",
    "廖", "汪", "文", "肖", "程", "付", "雷", "龚", "涂", "颜", "易", "黎", "秦",
)
# fmt: on
# Chongqing's north-east has many 冉/向/谭/邓/彭; the weights lean that way.
# fmt: off
SURNAME_WEIGHTS = np.array(
    [
        8, 8, 8, 7, 7, 6, 4, 3, 4, 4, 3, 2, 3, 2, 2, 2, 3, 2, 2, 3, 4, 4, 3, 4, 3, 3, 3, 3, 3, 3,
        3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1,
    ],
    dtype=float,
)
# fmt: on
SURNAME_WEIGHTS /= SURNAME_WEIGHTS.sum()
GIVEN_CHARS: tuple[str, ...] = tuple(
    "国华建平明军文勇志强伟芳丽敏静燕霞红玉兰英秀梅琴云飞海波涛林春晓东小大德成家兴福"
    "洪涛宇轩浩然子涵思雨欣怡俊杰鑫磊鹏辉永刚春花正清世友学贵安帮元祥富贵容琼莉蓉"
)

# fmt: off
# (industry section, kind of shop) for individual businesses: mostly retail and catering.
SHOP_KINDS: tuple[tuple[str, str], ...] = (
    ("F", "便利店"), ("F", "副食店"), ("H", "小吃店"), ("H", "火锅店"), ("H", "面馆"),
    ("O", "理发店"), ("F", "五金店"), ("F", "农资店"), ("F", "服装店"), ("O", "汽车修理部"),
    ("F", "手机店"), ("H", "茶馆"), ("F", "烟酒店"), ("F", "水果店"), ("F", "建材经营部"),
    ("O", "家电维修部"), ("A", "养殖场"), ("A", "种植场"), ("H", "民宿"), ("F", "电子商务经营部"),
    ("F", "粮油店"), ("H", "烧烤店"), ("O", "美容店"), ("O", "摩托车维修店"), ("F", "超市"),
)
# fmt: on
BRAND_CHARS: tuple[str, ...] = tuple(
    "鑫源华盛宏达恒泰锦瑞博丰汉开兴隆顺利德信诚佳美旺昌和福康安嘉凯腾飞睿智通远川渝巴蜀"
    "金银宝华龙凤祥云天地新力众合创优品尚"
)
# (industry section, business words) for enterprise names.
# fmt: off
ENTERPRISE_TRADES: tuple[tuple[str, str], ...] = (
    ("F", "商贸"), ("F", "贸易"), ("E", "建筑工程"), ("E", "建设工程"), ("C", "食品"),
    ("C", "机械制造"), ("C", "电子科技"), ("C", "新材料"), ("H", "餐饮管理"), ("H", "酒店管理"),
    ("A", "农业开发"), ("A", "生态农业"), ("I", "网络科技"), ("I", "信息技术"),
    ("L", "企业管理咨询"), ("K", "房地产开发"), ("G", "物流"), ("G", "运输"), ("M", "科技"),
    ("O", "家政服务"), ("P", "教育咨询"), ("Q", "健康管理"), ("R", "文化传媒"), ("N", "环保科技"),
    ("D", "能源"), ("J", "商务信息咨询"), ("B", "矿业"),
)
COOP_KINDS: tuple[str, ...] = (
    "柑橘种植", "春橙种植", "蔬菜种植", "中药材种植", "生猪养殖", "山羊养殖", "水产养殖",
    "茶叶种植", "花椒种植", "蜜蜂养殖", "食用菌种植", "粮油种植",
)
# fmt: on


# --- departments and service items -------------------------------------------------------

# The 18 departments in the one-window (一窗综办) scheme by the end of 2022; 区文化旅游委 joins
# in the 2023 catalogue revision.
ONE_WINDOW_DEPARTMENTS: tuple[str, ...] = (
    "区市场监管局",
    "区人力社保局",
    "区民政局",
    "区教委",
    "区公安局",
    "区卫生健康委",
    "区住房城乡建委",
    "区规划自然资源局",
    "区交通局",
    "区农业农村委",
    "区商务委",
    "区发展改革委",
    "区经济信息委",
    "区税务局",
    "区医保局",
    "区生态环境局",
    "区城市管理局",
    "区水利局",
)
DEPARTMENT_JOINING_2023 = "区文化旅游委"

ITEM_TYPES = {"XK": "行政许可", "QR": "行政确认", "JF": "行政给付", "GG": "公共服务", "QT": "其他"}

# Each department's items as "TYPE:base name". Licences expand into 新办/变更/延续/注销 items
# and confirmations into 首次/变更 items, as district catalogues list them.
DEPARTMENT_ITEMS: dict[str, tuple[str, ...]] = {
    "区市场监管局": (
        "XK:食品经营许可",
        "XK:食品生产许可",
        "XK:小餐饮经营许可",
        "XK:食品小作坊登记",
        "XK:药品零售企业经营许可",
        "XK:第三类医疗器械经营许可",
        "XK:特种设备使用登记",
        "XK:计量标准器具核准",
        "XK:工业产品生产许可",
        "XK:企业设立登记",
        "XK:个体工商户登记",
        "XK:农民专业合作社登记",
        "XK:外商投资企业登记",
        "XK:特种设备作业人员资格认定",
        "QR:企业年度报告公示",
        "QR:经营异常名录移出",
        "QR:第二类医疗器械经营备案",
        "QT:食品经营备案",
        "QT:企业简易注销公告",
        "GG:企业信用信息查询",
        "GG:消费投诉处理",
        "GG:知识产权质押登记咨询",
        "GG:检验检测机构资质认定咨询",
        "GG:电子营业执照下载",
    ),
    "区人力社保局": (
        "XK:民办职业培训学校设立",
        "XK:劳务派遣经营许可",
        "XK:人力资源服务许可",
        "XK:企业实行不定时工作制审批",
        "QR:职工参保登记",
        "QR:城乡居民养老保险参保登记",
        "QR:工伤认定",
        "QR:劳动能力鉴定",
        "QR:失业登记",
        "QR:就业困难人员认定",
        "QR:养老保险关系转移",
        "JF:失业保险金申领",
        "JF:工伤保险待遇核定",
        "JF:城乡居民养老保险待遇申领",
        "JF:丧葬补助金申领",
        "JF:一次性创业补助",
        "JF:社保补贴申领",
        "JF:职业技能提升补贴",
        "GG:就业登记",
        "GG:职业介绍",
        "GG:创业担保贷款申请",
        "GG:职业资格证书查询",
        "GG:人事档案管理",
        "GG:劳动人事争议调解",
        "GG:社会保障卡申领",
        "GG:社会保障卡挂失补换",
    ),
    "区民政局": (
        "XK:社会团体成立登记",
        "XK:民办非企业单位成立登记",
        "XK:殡葬设施建设审批",
        "XK:慈善组织公开募捐资格审定",
        "QR:内地居民结婚登记",
        "QR:内地居民离婚登记",
        "QR:补领婚姻登记证",
        "QR:最低生活保障审核确认",
        "QR:特困人员认定",
        "JF:临时救助",
        "JF:残疾人两项补贴",
        "JF:高龄津贴发放",
        "JF:孤儿基本生活费发放",
        "JF:事实无人抚养儿童生活补贴",
        "JF:基本殡葬服务费用减免",
        "GG:养老服务补贴申请",
        "GG:地名核准",
        "GG:社会组织年度检查",
        "GG:婚姻登记档案查询",
        "QT:养老机构备案",
    ),
    "区教委": (
        "XK:民办学校设立",
        "XK:教师资格认定",
        "XK:校外培训机构审批",
        "XK:适龄儿童少年入学年龄推迟",
        "QR:学生学籍变更",
        "QR:中小学生转学",
        "GG:义务教育阶段招生入学",
        "JF:学生资助",
        "JF:家庭经济困难学生生活补助",
        "JF:中职学生免学费",
        "GG:学历证明办理",
        "GG:普通话水平测试",
        "GG:教师资格证书补发",
        "GG:幼儿园入园登记",
    ),
    "区公安局": (
        "XK:户口迁移",
        "XK:居民身份证申领",
        "XK:临时居民身份证办理",
        "XK:往来港澳通行证签注",
        "XK:旅馆业特种行业许可",
        "XK:公章刻制业特种行业许可",
        "XK:大型群众性活动安全许可",
        "XK:烟花爆竹道路运输许可",
        "XK:剧毒化学品购买许可",
        "XK:保安服务公司设立许可",
        "XK:机动车驾驶证换证",
        "XK:放射性物品道路运输许可",
        "QR:出生登记",
        "QR:死亡注销户口",
        "QR:户籍证明",
        "QR:居住证申领",
        "QR:无犯罪记录证明",
        "QR:机动车登记",
        "GG:交通违法处理",
        "GG:户籍信息查询",
        "GG:驾驶人体检信息备案",
    ),
    "区卫生健康委": (
        "XK:医疗机构执业许可",
        "XK:医师执业注册",
        "XK:护士执业注册",
        "XK:公共场所卫生许可",
        "XK:放射诊疗许可",
        "XK:母婴保健技术服务执业许可",
        "XK:饮用水供水单位卫生许可",
        "XK:乡村医生执业注册",
        "QR:出生医学证明",
        "QR:计划生育家庭特别扶助确认",
        "QR:农村部分计划生育家庭奖励扶助确认",
        "JF:独生子女父母奖励",
        "JF:计划生育特别扶助金",
        "GG:预防接种",
        "GG:婚前医学检查",
        "GG:生育登记服务",
        "GG:严重精神障碍患者管理",
        "QT:诊所备案",
    ),
    "区住房城乡建委": (
        "XK:建筑工程施工许可",
        "XK:商品房预售许可",
        "XK:建筑业企业资质核准",
        "XK:房地产开发企业资质核定",
        "XK:燃气经营许可",
        "XK:建筑施工企业安全生产许可",
        "XK:建设工程消防设计审查",
        "QR:房屋交易网签备案",
        "QR:公共租赁住房资格审核",
        "QR:住房保障资格认定",
        "QR:物业专项维修资金使用审核",
        "JF:公租房租赁补贴",
        "GG:存量房交易资金监管",
        "GG:建设工程消防验收",
        "QT:房屋建筑工程竣工验收备案",
    ),
    "区规划自然资源局": (
        "XK:建设用地规划许可",
        "XK:建设工程规划许可",
        "XK:乡村建设规划许可",
        "XK:建设项目用地预审与选址意见书",
        "XK:临时用地审批",
        "XK:采矿权新立",
        "XK:农用地转用审批",
        "XK:建设工程规划条件核实",
        "QR:不动产首次登记",
        "QR:不动产转移登记",
        "QR:不动产抵押登记",
        "QR:不动产变更登记",
        "QR:不动产注销登记",
        "QR:不动产更正登记",
        "QR:不动产预告登记",
        "QR:不动产查封登记",
        "GG:不动产登记资料查询",
        "QT:地质灾害危险性评估备案",
    ),
    "区交通局": (
        "XK:道路旅客运输经营许可",
        "XK:道路货物运输经营许可",
        "XK:出租汽车经营许可",
        "XK:网络预约出租汽车运输证",
        "XK:公路超限运输许可",
        "XK:涉路施工许可",
        "XK:港口经营许可",
        "XK:船舶营业运输证",
        "XK:机动车驾驶员培训经营许可",
        "XK:道路运输从业人员从业资格",
        "QR:船员适任证书",
        "QT:机动车维修经营备案",
        "GG:道路运输证年审",
        "GG:公交卡办理",
    ),
    "区农业农村委": (
        "XK:农药经营许可",
        "XK:兽药经营许可",
        "XK:种子生产经营许可",
        "XK:动物防疫条件合格证",
        "XK:生猪定点屠宰许可",
        "XK:农村村民宅基地审批",
        "XK:渔业捕捞许可",
        "XK:水产苗种生产许可",
        "XK:拖拉机和联合收割机登记",
        "QR:家庭农场认定",
        "QR:农机购置补贴确认",
        "JF:耕地地力保护补贴",
        "JF:农机购置补贴",
        "JF:农业保险保费补贴",
        "GG:动物检疫",
        "GG:农村土地承包经营权流转备案",
        "GG:农产品质量安全检测",
    ),
    "区商务委": (
        "XK:成品油零售经营资格",
        "XK:酒类经营许可",
        "XK:拍卖企业设立",
        "XK:报废机动车回收拆解企业资格认定",
        "QT:单用途预付卡备案",
        "QT:对外贸易经营者备案",
        "GG:外商投资信息报告",
        "GG:商贸企业统计服务",
    ),
    "区发展改革委": (
        "XK:企业投资项目核准",
        "XK:固定资产投资项目节能审查",
        "XK:政府投资项目可行性研究报告审批",
        "QR:企业投资项目备案",
        "GG:粮食收购资格备案",
        "GG:价格认定",
    ),
    "区经济信息委": (
        "XK:民用爆炸物品销售许可",
        "QT:工业企业技术改造项目备案",
        "GG:中小企业服务",
        "GG:工业企业用电协调",
        "QR:专精特新企业认定推荐",
    ),
    "区税务局": (
        "XK:增值税专用发票最高开票限额审批",
        "QR:税务登记",
        "QR:发票领用",
        "QR:增值税一般纳税人登记",
        "GG:纳税申报",
        "GG:完税证明开具",
        "GG:个人所得税汇算",
        "GG:社保费缴纳",
        "GG:涉税信息查询",
        "GG:出口退税",
        "GG:跨区域涉税事项报告",
    ),
    "区医保局": (
        "QR:医保参保登记",
        "QR:异地就医备案",
        "QR:门诊特殊疾病认定",
        "QR:医保关系转移接续",
        "JF:医疗费用报销",
        "JF:生育保险待遇",
        "JF:医疗救助",
        "GG:医保缴费",
        "GG:医保电子凭证激活",
        "GG:定点医药机构申请",
    ),
    "区生态环境局": (
        "XK:建设项目环境影响评价审批",
        "XK:排污许可",
        "XK:危险废物经营许可",
        "XK:辐射安全许可",
        "QR:排污登记",
        "GG:环境信访",
        "GG:环境监测数据查询",
    ),
    "区城市管理局": (
        "XK:城市道路占用挖掘许可",
        "XK:户外广告设置许可",
        "XK:城市建筑垃圾处置核准",
        "XK:临时占道经营许可",
        "XK:砍伐城市树木许可",
        "XK:市政设施建设类审批",
        "GG:生活垃圾清运",
        "GG:城市照明报修",
    ),
    "区水利局": (
        "XK:取水许可",
        "XK:水土保持方案审批",
        "XK:河道管理范围内建设项目审批",
        "XK:洪水影响评价审批",
        "XK:农村集体经济组织修建水库审批",
        "QT:生产建设项目水土保持设施自主验收备案",
        "GG:农村供水报装",
    ),
    "区文化旅游委": (
        "XK:营业性演出审批",
        "XK:娱乐场所经营许可",
        "XK:互联网上网服务营业场所经营许可",
        "XK:旅行社设立许可",
        "XK:文物保护单位建设控制地带内建设工程审批",
        "XK:出版物零售单位设立",
        "XK:卫星电视广播地面接收设施安装许可",
        "XK:高危险性体育项目经营许可",
        "GG:公共图书馆借阅",
        "GG:文化馆培训",
    ),
    "区应急局": (
        "XK:危险化学品经营许可",
        "XK:烟花爆竹经营（零售）许可",
        "XK:生产经营单位主要负责人安全考核",
        "GG:安全生产举报",
    ),
    "区退役军人事务局": (
        "QR:退役士兵安置",
        "QR:优抚对象认定",
        "QR:退役军人优待证申领",
        "JF:伤残抚恤金",
        "JF:定期抚恤金",
        "JF:优抚对象医疗补助",
        "JF:自主就业退役士兵一次性经济补助",
        "GG:退役军人就业创业服务",
        "GG:烈士褒扬",
    ),
    "区司法局": (
        "XK:基层法律服务工作者执业核准",
        "QR:法律援助申请审批",
        "GG:公证服务",
        "GG:人民调解",
        "GG:法律咨询",
    ),
    "区林业局": (
        "XK:林木采伐许可",
        "XK:使用林地审核",
        "XK:野生动物人工繁育许可",
        "XK:植物检疫证书核发",
        "XK:木材经营加工许可",
        "GG:森林防火",
    ),
    "区财政局": ("XK:代理记账机构审批", "GG:政府采购供应商注册", "GG:会计人员信息采集"),
    "区残联": (
        "QR:残疾人证办理",
        "JF:残疾人辅助器具适配补贴",
        "JF:残疾儿童康复救助",
        "GG:残疾人职业培训",
    ),
    "区住房公积金中心": (
        "QR:住房公积金缴存登记",
        "JF:住房公积金提取",
        "GG:住房公积金贷款",
        "GG:公积金缴存证明",
    ),
    "区气象局": (
        "XK:雷电防护装置设计审核",
        "XK:雷电防护装置竣工验收",
        "XK:升放无人驾驶自由气球审批",
    ),
    "区档案馆": ("GG:档案查阅利用",),
    "区科技局": ("QR:科技型企业认定", "QR:高新技术企业认定推荐", "GG:科技成果登记"),
    "区消防救援支队": ("XK:公众聚集场所投入使用营业前消防安全检查", "GG:消防安全咨询"),
    "区烟草专卖局": ("XK:烟草专卖零售许可",),
}
# Public services every town and street delivers at its convenience centre (便民服务中心).
TOWNSHIP_ITEMS: tuple[str, ...] = (
    "QR:城乡居民基本养老保险参保登记",
    "QR:城乡居民基本医疗保险参保登记",
    "GG:最低生活保障申请受理",
    "GG:临时救助申请受理",
    "GG:残疾人证申请受理",
    "GG:高龄津贴申请受理",
    "GG:农村危房改造申请受理",
    "GG:耕地地力保护补贴申报",
    "GG:退役军人优待证申请受理",
    "GG:就业失业登记受理",
    "GG:农村宅基地申请受理",
    "GG:生育登记服务",
    "GG:计划生育奖励扶助申请受理",
    "GG:城乡居民养老保险待遇申领受理",
    "GG:老年人优待证办理",
)


def township_department(township: str) -> str:
    return f"{township}办事处" if township.endswith("街道") else f"{township}人民政府"


DEPARTMENTS: tuple[str, ...] = tuple(DEPARTMENT_ITEMS) + tuple(
    township_department(t) for t in TOWNSHIPS
)

LICENCE_VARIANTS = ("（新办）", "（变更）", "（延续）", "（注销）")
CONFIRMATION_VARIANTS = ("", "（变更）")


def catalogue_entries() -> list[tuple[str, str, str, str]]:
    """Every (department, type code, item name, item code) of the demo catalogue, in a fixed
    order. Licences get their 新办/变更/延续/注销 variants, confirmations 首次/变更."""
    entries: list[tuple[str, str, str, str]] = []
    by_department = dict(DEPARTMENT_ITEMS)
    by_department.update({township_department(t): TOWNSHIP_ITEMS for t in TOWNSHIPS})
    for dept_no, (dept, bases) in enumerate(by_department.items(), start=1):
        seq = 0
        for spec in bases:
            code, base = spec.split(":", 1)
            variants = {"XK": LICENCE_VARIANTS, "QR": CONFIRMATION_VARIANTS}.get(code, ("",))
            for variant in variants:
                seq += 1
                entries.append((dept, code, base + variant, f"500154{dept_no:03d}{code}{seq:04d}"))
    return entries


# --- investment projects ------------------------------------------------------------------

CLUSTER_PRODUCTS: dict[str, tuple[str, ...]] = {
    "能源建材": (
        "光伏玻璃及组件",
        "玄武岩纤维新材料",
        "新型干法水泥技改",
        "装配式建筑构件",
        "天然气综合利用",
        "分布式光伏发电",
        "绿色节能建材产业园",
        "商品混凝土生产线",
        "风力发电",
        "储能电站",
    ),
    "食品医药": (
        "中药饮片加工",
        "中药材精深加工",
        "预制菜生产基地",
        "春橙深加工",
        "冬菜标准化生产",
        "生猪屠宰及冷链加工",
        "功能饮料生产线",
        "粮油精深加工",
        "医用敷料生产",
        "饲料加工",
    ),
    "电子信息": (
        "智能终端产业园",
        "电子元器件生产",
        "锂离子电池生产",
        "覆铜板生产线",
        "LED显示模组",
        "电路板生产",
        "智能穿戴设备",
        "电子级化学品",
    ),
    "装备制造": (
        "汽车零部件生产",
        "新能源汽车零部件",
        "智能装备制造",
        "医化设备制造",
        "农机装备制造",
        "输变电设备",
        "精密铸造",
        "电梯配件生产",
    ),
}
NON_INDUSTRIAL_PRODUCTS: dict[str, tuple[str, ...]] = {
    "绿色农业": ("柑橘产业园", "生态茶园", "中药材种植基地", "数字农业示范园", "稻渔综合种养基地"),
    "商贸物流": ("冷链物流园", "城市商业综合体", "农产品批发市场", "电商产业园", "智慧仓储中心"),
    "文旅融合": ("汉丰湖文旅综合体", "雪宝山康养度假区", "温泉小镇", "乡村旅游度假区", "研学基地"),
    "城市提升": ("城市更新", "智慧停车", "老旧小区改造", "城市综合管廊", "体育文化中心"),
    "乡镇街道": ("特色小镇", "乡村振兴示范片", "农旅融合", "集镇商贸中心"),
}
# fmt: off
INVESTOR_PLACES: tuple[str, ...] = (
    "重庆", "四川", "浙江", "上海", "深圳", "广东", "江苏", "北京", "福建", "湖北", "成都",
)
INVESTOR_SUFFIXES: tuple[str, ...] = (
    "实业有限公司", "科技有限公司", "集团有限公司", "新材料股份有限公司", "投资有限公司",
    "产业发展有限公司", "能源有限公司", "食品有限公司", "电子有限公司", "智能装备有限公司",
)
# fmt: on


# --- working days -------------------------------------------------------------------------


class WorkCalendar:
    """China's official working days (chinesecalendar) as arrays over a fixed range of days,
    for vectorised deadline and completion arithmetic."""

    def __init__(self, first: date, last: date) -> None:
        n = (last - first).days + 1
        days = [first + timedelta(days=i) for i in range(n)]
        self.first = day_number(first)
        self.is_work = np.array([chinese_calendar.is_workday(d) for d in days], dtype=bool)
        # workdays_upto[i] = number of working days on or before day i.
        self.workdays_upto = np.cumsum(self.is_work)
        self.workdays = np.flatnonzero(self.is_work)

    def index(self, day_numbers: np.ndarray) -> np.ndarray:
        return day_numbers - self.first

    def nth_workday_after(self, day_numbers: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The n-th working day strictly after each day (n = 0: the day itself)."""
        idx = self.index(day_numbers)
        target = self.workdays[self.workdays_upto[idx] + n - 1]
        out = np.where(n == 0, idx, target)
        return out + self.first

    def is_workday(self, day_numbers: np.ndarray) -> np.ndarray:
        return self.is_work[self.index(day_numbers)]

    def workdays_in(self, first: date, last: date) -> np.ndarray:
        lo, hi = day_number(first) - self.first, day_number(last) - self.first
        w = self.workdays
        return w[(w >= lo) & (w <= hi)] + self.first


# --- personal names -----------------------------------------------------------------------


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=SURNAME_WEIGHTS)]
    chars = np.array(GIVEN_CHARS)
    first = chars[rng.integers(0, len(chars), n)]
    second = chars[rng.integers(0, len(chars), n)]
    two = rng.random(n) < 0.7
    given = np.where(two, np.char.add(first, second), first)
    return np.char.add(surnames, given)


# --- GB 11643 resident identity numbers ---------------------------------------------------

_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_RIC_CHECK = np.array(list("10X98765432"))


def ric_check_chars(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters of 17-digit strings."""
    # Digits from their ASCII bytes: parsing one-character strings is ten times slower.
    digits = first17.astype("S17").view(np.uint8).reshape(-1, 17).astype(np.int64) - ord("0")
    return _RIC_CHECK[(digits * _RIC_WEIGHTS).sum(axis=1) % 11]


def kaizhou_region_codes(birth_years: np.ndarray) -> np.ndarray:
    """The 开县/开州区 division code in force in each birth year, as GB 11643 validators
    (python-stdnum) expect it: 512222 (万县地区 开县, to 1992), 511221 (万县市 开县, 1992-97),
    500234 (重庆市 开县, 1997-2016), 500154 (开州区, from 2016); as numbers."""
    return np.select(
        [birth_years <= 1991, birth_years <= 1996, birth_years <= 2015],
        [512222, 511221, 500234],
        500154,
    ).astype(np.int64)


def resident_ids(rng: np.random.Generator, birth_days: np.ndarray) -> np.ndarray:
    """Valid 18-character ID numbers of people born in 开县/开州区 on the given day numbers."""
    n = len(birth_days)
    births = birth_days.astype("datetime64[D]")
    first_of_month = births.astype("datetime64[M]")
    years = births.astype("datetime64[Y]").astype(np.int64) + 1970
    months = first_of_month.astype(np.int64) % 12 + 1
    days = (births - first_of_month.astype("datetime64[D]")).astype(np.int64) + 1
    seq = rng.integers(0, 1000, n)
    # The 17 digits as one number (region, yyyymmdd, sequence), its check character from its
    # digits, and text only at the end: building the ID as text takes ten times as long. Birth
    # years have four digits and region codes six, so the number's decimal text is the ID's.
    region = kaizhou_region_codes(years)
    first17 = (((region * 10_000 + years) * 100 + months) * 100 + days) * 1000 + seq
    total = np.zeros(n, dtype=np.int64)
    rest = first17.copy()
    for w in _RIC_WEIGHTS[::-1]:
        rest, digit = np.divmod(rest, 10)
        total += digit * w
    return np.char.add(first17.astype("U17"), _RIC_CHECK[total % 11])


# --- GB 32100 unified social credit codes -------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
_LOOKUP_USCC = np.full(128, -1, dtype=np.int64)
for _c, _v in _USCC_VALUE.items():
    _LOOKUP_USCC[ord(_c)] = _v
# GB 11714 organisation-code characters: digits as is, letters A=10 ... Z=35.
_LOOKUP_ORG = np.full(128, -1, dtype=np.int64)
for _i in range(10):
    _LOOKUP_ORG[ord("0") + _i] = _i
for _i in range(26):
    _LOOKUP_ORG[ord("A") + _i] = 10 + _i


def _chars(codes: np.ndarray, width: int) -> np.ndarray:
    return codes.astype(f"S{width}").view(np.uint8).reshape(-1, width).astype(np.int64)


def uscc_check_chars(first17: np.ndarray) -> np.ndarray:
    values = _LOOKUP_USCC[_chars(first17, 17)]
    check = (31 - (values * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
    return np.array(list(USCC_ALPHABET))[check]


def org_code_check_chars(first8: np.ndarray) -> np.ndarray:
    values = _LOOKUP_ORG[_chars(first8, 8)]
    c = 11 - (values * _ORG_WEIGHTS).sum(axis=1) % 11
    return np.select([c == 10, c == 11], ["X", "0"], c.astype(str))


# Letters an organisation-code body may use inside a credit code (GB 32100 excludes I O Z S V).
_BODY_LETTERS = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))


def credit_codes(
    kind: np.ndarray, serial: np.ndarray, modern: np.ndarray, division: str = "500154"
) -> np.ndarray:
    """Unique, valid credit codes: '9' (market regulation) + kind digit ('1' enterprise,
    '2' individual business, '3' farmers' cooperative) + division code + a 9-character
    organisation code (GB 11714, its own check character) + the GB 32100 check character.

    `serial` must be unique per code. Codes issued after the 2015 reform (`modern`) use the
    'MA' series of organisation codes; older ones keep an 8-digit numeric body."""
    n = len(serial)
    # A multiplicative permutation spreads consecutive serials over the code space, still unique.
    numeric = (serial.astype(np.int64) * 48_271 + 10_000_019) % 100_000_000
    digits_body = np.char.zfill(numeric.astype(str), 8)
    mixed = (serial.astype(np.int64) * 7_919 + 104_729) % (31**6)
    letters = np.empty((n, 6), dtype="<U1")
    rest = mixed.copy()
    for k in range(5, -1, -1):
        letters[:, k] = _BODY_LETTERS[rest % 31]
        rest //= 31
    ma_body = np.char.add("MA", np.array(["".join(r) for r in letters]))
    body = np.where(modern, ma_body, digits_body)
    org = np.char.add(body, org_code_check_chars(body))
    first17 = np.char.add(np.char.add(np.char.add("9", kind), division), org)
    return np.char.add(first17, uscc_check_chars(first17))
