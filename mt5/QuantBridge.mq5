//+------------------------------------------------------------------+
//| QuantBridge.mq5 - the terminal side of the QuantTrading MT5 bridge |
//| Protocol: docs/contracts/bridge.md (newline-delimited JSON, TCP).  |
//| Native MQL5 sockets (client only), no DLL. Attach to ONE chart.    |
//+------------------------------------------------------------------+
#property copyright "QuantTrading"
#property version   "1.00"
#property strict

input string InpHost            = "127.0.0.1";  // bridge host (must be in Tools > Options > Expert Advisors allowed list)
input int    InpPort            = 5555;         // bridge port (quant bridge --listen)
input string InpSymbols         = "WIN$N,WDO$N"; // symbols, comma-separated (Market Watch names)
input long   InpMagic           = 770077;       // magic number of every order this EA sends
input int    InpReconnectMinMs  = 500;          // first reconnect delay
input int    InpReconnectMaxMs  = 10000;        // longest reconnect delay (doubles up to this)
input int    InpPeerTimeoutMs   = 5000;         // drop the connection after this much silence
input int    InpMaxTicksPerPoll = 5000;         // ticks sent per symbol per timer event (catch-up pacing)

#define SCHEMA_VERSION 1
#define MAX_LINE 65536          // bytes, the '\n' included (protocol cap)
#define BOOK_MIN_INTERVAL_MS 100 // book snapshots: at most 10 Hz per symbol

//--- connection state
int    g_socket = INVALID_HANDLE;
bool   g_ready = false;          // platform hello received
long   g_out_seq = 0;            // seq of the last line sent on this connection
long   g_in_seq = 0;             // seq of the last line received
string g_inbuf = "";             // bytes received, not yet a full line
ulong  g_last_sent_ms = 0;       // GetTickCount64() of the last send
ulong  g_last_recv_ms = 0;
ulong  g_next_connect_ms = 0;
int    g_backoff_ms = 0;
long   g_offset_s = 0;           // TimeTradeServer() - TimeGMT(), seconds

//--- per symbol
string g_sym[];
long   g_tick_msc[];      // server-time msc of the last tick sent
long   g_ticks_at_msc[];  // how many ticks at exactly g_tick_msc were sent
long   g_bar_time[];      // server-time open of the last closed M1 bar sent
ulong  g_book_sent_ms[];
bool   g_book_dirty[];

//--- execution reports produced while disconnected: sent after the next hello
string g_queue_type[];
string g_queue_body[];

//--- cl_ord_ids taken this session (the platform re-sends unacked orders after a reconnect)
string g_seen_cl[];

//--- one-cancels-other pairs (a protective stop and its target, from order_new's oco_with):
//--- when one of them trades, the EA removes the other at once, before it can trade too
string g_oco_a[];
string g_oco_b[];

//--- async requests in flight: request_id -> what it was
uint   g_req_id[];
string g_req_cl[];      // the order's own cl_ord_id (for cancel/replace: the original)
string g_req_kind[];    // "new", "cancel", "replace"
string g_req_symbol[];
double g_req_stop[];

//+------------------------------------------------------------------+
//| small helpers                                                    |
//+------------------------------------------------------------------+
long NowMs() { return (long)TimeGMT() * 1000 + (long)(GetTickCount64() % 1000); }

string Num(double x, int digits)
  {
   if(!MathIsValidNumber(x)) return "null";
   string s = DoubleToString(x, digits);
   // trim trailing zeros so integral prices read "123455"
   if(StringFind(s, ".") >= 0)
     {
      int n = StringLen(s);
      while(n > 0 && StringGetCharacter(s, n - 1) == '0') n--;
      if(n > 0 && StringGetCharacter(s, n - 1) == '.') n--;
      s = StringSubstr(s, 0, n);
     }
   return s;
  }

string Esc(string s)
  {
   string out = s;
   StringReplace(out, "\\", "\\\\");
   StringReplace(out, "\"", "\\\"");
   return out;
  }

string Q(string s) { return "\"" + Esc(s) + "\""; }

int SymIndex(string sym)
  {
   for(int i = 0; i < ArraySize(g_sym); i++) if(g_sym[i] == sym) return i;
   return -1;
  }

int Digits(string sym) { return (int)SymbolInfoInteger(sym, SYMBOL_DIGITS); }

//--- a minimal reader for the platform's flat JSON lines (no escapes in values we read)
int JsonFind(const string &line, string key, int from = 0)
  {
   int p = StringFind(line, "\"" + key + "\":", from);
   return p < 0 ? -1 : p + StringLen(key) + 3;
  }

string JsonStr(const string &line, string key, int from = 0)
  {
   int p = JsonFind(line, key, from);
   if(p < 0 || StringGetCharacter(line, p) != '"') return "";
   int e = StringFind(line, "\"", p + 1);
   return e < 0 ? "" : StringSubstr(line, p + 1, e - p - 1);
  }

double JsonNum(const string &line, string key, int from = 0)
  {
   int p = JsonFind(line, key, from);
   if(p < 0) return 0;
   int e = p;
   int n = StringLen(line);
   while(e < n)
     {
      ushort c = StringGetCharacter(line, e);
      if(c == ',' || c == '}' || c == ']') break;
      e++;
     }
   return StringToDouble(StringSubstr(line, p, e - p));
  }

//+------------------------------------------------------------------+
//| sending                                                          |
//+------------------------------------------------------------------+
void Disconnect(string why)
  {
   if(g_socket != INVALID_HANDLE)
     {
      SocketClose(g_socket);
      PrintFormat("QuantBridge: disconnected: %s", why);
     }
   g_socket = INVALID_HANDLE;
   g_ready = false;
   g_inbuf = "";
   g_next_connect_ms = GetTickCount64() + (ulong)g_backoff_ms;
   g_backoff_ms = MathMin(MathMax(g_backoff_ms * 2, InpReconnectMinMs), InpReconnectMaxMs);
  }

// {"type":T,"seq":N,"t_ms":M,<body>}\n, written whole.
bool Send(string type, string body)
  {
   if(g_socket == INVALID_HANDLE) return false;
   g_out_seq++;
   string line = "{\"type\":\"" + type + "\",\"seq\":" + IntegerToString(g_out_seq) + ",\"t_ms\":" +
                 IntegerToString(NowMs()) + (body == "" ? "" : "," + body) + "}\n";
   uchar buf[];
   int len = StringToCharArray(line, buf, 0, WHOLE_ARRAY, CP_UTF8) - 1; // without the terminating 0
   if(len + 0 > MAX_LINE) { PrintFormat("QuantBridge: %s line too long (%d bytes), not sent", type, len); g_out_seq--; return false; }
   int sent = 0;
   while(sent < len)
     {
      uchar part[];
      ArrayCopy(part, buf, 0, sent, len - sent);
      int n = SocketSend(g_socket, part, len - sent);
      if(n <= 0) { Disconnect("send failed, error " + IntegerToString(GetLastError())); return false; }
      sent += n;
     }
   g_last_sent_ms = GetTickCount64();
   return true;
  }

// Execution reports must not be lost: queued while disconnected (the bridge dedupes repeats).
void SendReport(string type, string body)
  {
   if(g_ready && Send(type, body)) return;
   int n = ArraySize(g_queue_type);
   ArrayResize(g_queue_type, n + 1);
   ArrayResize(g_queue_body, n + 1);
   g_queue_type[n] = type;
   g_queue_body[n] = body;
  }

void FlushQueue()
  {
   int n = ArraySize(g_queue_type);
   int i = 0;
   for(; i < n && g_ready; i++) if(!Send(g_queue_type[i], g_queue_body[i])) break;
   if(i == 0) return;
   int left = n - i;
   for(int k = 0; k < left; k++) { g_queue_type[k] = g_queue_type[i + k]; g_queue_body[k] = g_queue_body[i + k]; }
   ArrayResize(g_queue_type, left);
   ArrayResize(g_queue_body, left);
  }

void SendAck(string cl, string sym, string ticket, string exec_type, string ord_status, string reason, double stop)
  {
   string body = "\"cl_ord_id\":" + Q(cl) + ",\"symbol\":" + Q(sym) + ",\"venue_order_id\":" + Q(ticket) +
                 ",\"exec_type\":" + Q(exec_type) + ",\"ord_status\":" + Q(ord_status) + ",\"reason\":" + Q(reason) +
                 ",\"stop_price\":" + Num(stop, sym == "" ? 8 : Digits(sym)) + ",\"time_msc\":" + IntegerToString(NowMs());
   SendReport("order_ack", body);
  }

//+------------------------------------------------------------------+
//| connection                                                       |
//+------------------------------------------------------------------+
void Connect()
  {
   if(GetTickCount64() < g_next_connect_ms) return;
   g_socket = SocketCreate();
   if(g_socket == INVALID_HANDLE) { Disconnect("SocketCreate error " + IntegerToString(GetLastError())); return; }
   if(!SocketConnect(g_socket, InpHost, (uint)InpPort, 2000))
     {
      Disconnect(StringFormat("cannot connect to %s:%d (error %d; is the host in the allowed list?)", InpHost, InpPort,
                              GetLastError()));
      return;
     }
   g_out_seq = 0;
   g_in_seq = 0;
   g_inbuf = "";
   g_ready = false;
   g_last_recv_ms = GetTickCount64();
   g_offset_s = (long)(TimeTradeServer() - TimeGMT());
   string syms = "";
   for(int i = 0; i < ArraySize(g_sym); i++) syms += (i > 0 ? "," : "") + Q(g_sym[i]);
   string body = "\"schema\":" + IntegerToString(SCHEMA_VERSION) + ",\"role\":\"terminal\",\"terminal\":" +
                 Q("MT5 " + IntegerToString(TerminalInfoInteger(TERMINAL_BUILD))) + ",\"account\":" +
                 Q(IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN))) + ",\"server_utc_offset_s\":" +
                 IntegerToString(g_offset_s) + ",\"symbols\":[" + syms + "]";
   if(Send("hello", body)) PrintFormat("QuantBridge: connected to %s:%d, hello sent", InpHost, InpPort);
  }

// Resume points come in UTC; the terminal's own times are trade-server times.
void OnPlatformHello(const string &line)
  {
   int r = StringFind(line, "\"resume\":");
   for(int i = 0; i < ArraySize(g_sym); i++)
     {
      int p = r < 0 ? -1 : StringFind(line, "\"" + g_sym[i] + "\":{", r);
      long tick_msc = p < 0 ? 0 : (long)JsonNum(line, "tick_msc", p);
      long at = p < 0 ? 0 : (long)JsonNum(line, "ticks_at_msc", p);
      long bar = p < 0 ? 0 : (long)JsonNum(line, "bar_time", p);
      if(tick_msc > 0) { g_tick_msc[i] = tick_msc + g_offset_s * 1000; g_ticks_at_msc[i] = at; }
      else { g_tick_msc[i] = (long)TimeCurrent() * 1000; g_ticks_at_msc[i] = 0; } // nothing published: from now
      if(bar > 0) g_bar_time[i] = bar + g_offset_s;
      else g_bar_time[i] = (long)iTime(g_sym[i], PERIOD_M1, 2);                 // from the last closed bar
     }
   g_ready = true;
   g_backoff_ms = 0;
   SendPositions();
   FlushQueue();
  }

//+------------------------------------------------------------------+
//| orders                                                           |
//+------------------------------------------------------------------+
bool SeenClOrdId(string cl)
  {
   for(int i = 0; i < ArraySize(g_seen_cl); i++) if(g_seen_cl[i] == cl) return true;
   return false;
  }

// An order this EA placed with that comment, working or in the last days' history.
ulong FindOrderByComment(string cl)
  {
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      ulong t = OrderGetTicket(i);
      if(t > 0 && OrderGetInteger(ORDER_MAGIC) == InpMagic && OrderGetString(ORDER_COMMENT) == cl) return t;
     }
   if(HistorySelect(TimeCurrent() - 7 * 86400, TimeCurrent() + 86400))
      for(int i = HistoryOrdersTotal() - 1; i >= 0; i--)
        {
         ulong t = HistoryOrderGetTicket(i);
         if(t > 0 && HistoryOrderGetInteger(t, ORDER_MAGIC) == InpMagic && HistoryOrderGetString(t, ORDER_COMMENT) == cl)
            return t;
        }
   return 0;
  }

ENUM_ORDER_TYPE_FILLING Filling(string sym, bool ioc)
  {
   long exec = SymbolInfoInteger(sym, SYMBOL_TRADE_EXEMODE);
   long mode = SymbolInfoInteger(sym, SYMBOL_FILLING_MODE);
   if(ioc && (mode & SYMBOL_FILLING_IOC) != 0) return ORDER_FILLING_IOC;
   if(exec == SYMBOL_TRADE_EXECUTION_EXCHANGE) return ORDER_FILLING_RETURN;  // B3: exchange execution
   if((mode & SYMBOL_FILLING_FOK) != 0) return ORDER_FILLING_FOK;
   if((mode & SYMBOL_FILLING_IOC) != 0) return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
  }

void Remember(uint request_id, string cl, string kind, string sym, double stop)
  {
   int n = ArraySize(g_req_id);
   ArrayResize(g_req_id, n + 1); ArrayResize(g_req_cl, n + 1); ArrayResize(g_req_kind, n + 1);
   ArrayResize(g_req_symbol, n + 1); ArrayResize(g_req_stop, n + 1);
   g_req_id[n] = request_id; g_req_cl[n] = cl; g_req_kind[n] = kind; g_req_symbol[n] = sym; g_req_stop[n] = stop;
  }

string Retcode(uint rc, string comment) { return IntegerToString(rc) + " " + comment; }

void OnOrderNew(const string &line)
  {
   string cl = JsonStr(line, "cl_ord_id");
   string sym = JsonStr(line, "symbol");
   if(SeenClOrdId(cl)) return;  // a re-send of an order in flight: its ack comes from the first
   ulong existing = FindOrderByComment(cl);
   if(existing > 0)
     {  // placed before a reconnect: answer again so the platform can settle it
      ArrayResize(g_seen_cl, ArraySize(g_seen_cl) + 1);
      g_seen_cl[ArraySize(g_seen_cl) - 1] = cl;
      SendAck(cl, sym, IntegerToString((long)existing), "new", "new", "", 0);
      return;
     }
   if(StringLen(cl) > 31) { SendAck(cl, sym, "", "rejected", "rejected", "cl_ord_id longer than 31 chars (MT5 comment)", 0); return; }
   string side = JsonStr(line, "side");
   string type = JsonStr(line, "ord_type");
   string tif = JsonStr(line, "tif");
   double qty = JsonNum(line, "qty");
   double price = JsonNum(line, "price");
   double stop = JsonNum(line, "stop_price");
   bool buy = side == "buy";

   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.symbol = sym;
   req.volume = qty;
   req.magic = (ulong)InpMagic;
   req.comment = cl;
   req.deviation = 0;
   req.type_filling = Filling(sym, tif == "ioc");
   req.type_time = tif == "gtc" ? ORDER_TIME_GTC : ORDER_TIME_DAY;
   if(type == "market")
     {
      req.action = TRADE_ACTION_DEAL;
      req.type = buy ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
      req.price = buy ? SymbolInfoDouble(sym, SYMBOL_ASK) : SymbolInfoDouble(sym, SYMBOL_BID);
     }
   else if(type == "limit")
     {
      req.action = TRADE_ACTION_PENDING;
      req.type = buy ? ORDER_TYPE_BUY_LIMIT : ORDER_TYPE_SELL_LIMIT;
      req.price = price;
     }
   else if(type == "stop")
     {
      req.action = TRADE_ACTION_PENDING;
      req.type = buy ? ORDER_TYPE_BUY_STOP : ORDER_TYPE_SELL_STOP;
      req.price = stop;
     }
   else  // stop_limit
     {
      req.action = TRADE_ACTION_PENDING;
      req.type = buy ? ORDER_TYPE_BUY_STOP_LIMIT : ORDER_TYPE_SELL_STOP_LIMIT;
      req.price = stop;
      req.stoplimit = price;
     }
   ArrayResize(g_seen_cl, ArraySize(g_seen_cl) + 1);
   g_seen_cl[ArraySize(g_seen_cl) - 1] = cl;
   string oco = JsonStr(line, "oco_with");
   if(oco != "")
     {
      int n = ArraySize(g_oco_a);
      ArrayResize(g_oco_a, n + 1);
      ArrayResize(g_oco_b, n + 1);
      g_oco_a[n] = cl;
      g_oco_b[n] = oco;
     }
   if(!OrderSendAsync(req, res))
     {
      SendAck(cl, sym, "", "rejected", "rejected", Retcode(res.retcode, res.comment), 0);
      return;
     }
   Remember(res.request_id, cl, "new", sym, 0);
  }

ulong TicketOf(string cl)
  {
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      ulong t = OrderGetTicket(i);
      if(t > 0 && OrderGetString(ORDER_COMMENT) == cl) return t;
     }
   return 0;
  }

void OnOrderCancel(const string &line)
  {
   string orig = JsonStr(line, "orig_cl_ord_id");
   string sym = JsonStr(line, "symbol");
   ulong ticket = TicketOf(orig);
   if(ticket == 0) { SendAck(orig, sym, "", "rejected", "rejected", "cancel: no working order " + orig, 0); return; }
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_REMOVE;
   req.order = ticket;
   if(!OrderSendAsync(req, res)) { SendAck(orig, sym, IntegerToString((long)ticket), "rejected", "new", Retcode(res.retcode, res.comment), 0); return; }
   Remember(res.request_id, orig, "cancel", sym, 0);
  }

void OnOrderReplace(const string &line)
  {
   string orig = JsonStr(line, "orig_cl_ord_id");
   string sym = JsonStr(line, "symbol");
   double stop = JsonNum(line, "stop_price");
   ulong ticket = TicketOf(orig);
   if(ticket == 0 || !OrderSelect(ticket)) { SendAck(orig, sym, "", "rejected", "rejected", "replace: no working order " + orig, 0); return; }
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_MODIFY;
   req.order = ticket;
   req.symbol = sym;
   req.price = stop;                                         // a stop order's trigger is its price
   req.stoplimit = OrderGetDouble(ORDER_PRICE_STOPLIMIT);
   req.sl = OrderGetDouble(ORDER_SL);
   req.tp = OrderGetDouble(ORDER_TP);
   req.type_time = (ENUM_ORDER_TYPE_TIME)OrderGetInteger(ORDER_TYPE_TIME);
   req.expiration = (datetime)OrderGetInteger(ORDER_TIME_EXPIRATION);
   if(!OrderSendAsync(req, res)) { SendAck(orig, sym, IntegerToString((long)ticket), "rejected", "new", Retcode(res.retcode, res.comment), stop); return; }
   Remember(res.request_id, orig, "replace", sym, stop);
  }

void SendPositions()
  {
   string pos = "";
   for(int i = 0; i < PositionsTotal(); i++)
     {
      string sym = PositionGetSymbol(i);
      if(sym == "") continue;
      double vol = PositionGetDouble(POSITION_VOLUME);
      long sign = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY ? 1 : -1;
      pos += (pos == "" ? "" : ",") + "{\"symbol\":" + Q(sym) + ",\"qty\":" + IntegerToString(sign * (long)vol) +
             ",\"avg_price\":" + Num(PositionGetDouble(POSITION_PRICE_OPEN), Digits(sym)) + "}";
     }
   string ords = "";
   for(int i = 0; i < OrdersTotal(); i++)
     {
      ulong t = OrderGetTicket(i);
      if(t == 0) continue;
      string sym = OrderGetString(ORDER_SYMBOL);
      ENUM_ORDER_TYPE ot = (ENUM_ORDER_TYPE)OrderGetInteger(ORDER_TYPE);
      bool buy = ot == ORDER_TYPE_BUY || ot == ORDER_TYPE_BUY_LIMIT || ot == ORDER_TYPE_BUY_STOP || ot == ORDER_TYPE_BUY_STOP_LIMIT;
      string type = "market";
      double price = 0, stop = 0;
      if(ot == ORDER_TYPE_BUY_LIMIT || ot == ORDER_TYPE_SELL_LIMIT) { type = "limit"; price = OrderGetDouble(ORDER_PRICE_OPEN); }
      if(ot == ORDER_TYPE_BUY_STOP || ot == ORDER_TYPE_SELL_STOP) { type = "stop"; stop = OrderGetDouble(ORDER_PRICE_OPEN); }
      if(ot == ORDER_TYPE_BUY_STOP_LIMIT || ot == ORDER_TYPE_SELL_STOP_LIMIT)
        { type = "stop_limit"; stop = OrderGetDouble(ORDER_PRICE_OPEN); price = OrderGetDouble(ORDER_PRICE_STOPLIMIT); }
      double initial = OrderGetDouble(ORDER_VOLUME_INITIAL);
      double current = OrderGetDouble(ORDER_VOLUME_CURRENT);
      ords += (ords == "" ? "" : ",") + "{\"cl_ord_id\":" + Q(OrderGetString(ORDER_COMMENT)) + ",\"symbol\":" + Q(sym) +
              ",\"side\":" + (buy ? "\"buy\"" : "\"sell\"") + ",\"ord_type\":" + Q(type) + ",\"qty\":" +
              IntegerToString((long)initial) + ",\"cum_qty\":" + IntegerToString((long)(initial - current)) +
              ",\"price\":" + Num(price, Digits(sym)) + ",\"stop_price\":" + Num(stop, Digits(sym)) + "}";
     }
   Send("positions", "\"request\":false,\"positions\":[" + pos + "],\"orders\":[" + ords + "]");
  }

//+------------------------------------------------------------------+
//| reading                                                          |
//+------------------------------------------------------------------+
void OnLine(const string &line)
  {
   long seq = (long)JsonNum(line, "seq");
   if(seq != g_in_seq + 1) { Disconnect(StringFormat("seq gap: expected %d, got %d", g_in_seq + 1, seq)); return; }
   g_in_seq = seq;
   string type = JsonStr(line, "type");
   if(type == "hello")
     {
      if((int)JsonNum(line, "schema") != SCHEMA_VERSION) { Disconnect("platform speaks another schema"); return; }
      OnPlatformHello(line);
     }
   else if(!g_ready) { Disconnect("the platform's first message was not a hello"); }
   else if(type == "order_new") OnOrderNew(line);
   else if(type == "order_cancel") OnOrderCancel(line);
   else if(type == "order_replace") OnOrderReplace(line);
   else if(type == "positions") SendPositions();
   // "hb": nothing to do (it kept the connection alive)
  }

void ReadLines()
  {
   while(g_socket != INVALID_HANDLE)
     {
      uint readable = SocketIsReadable(g_socket);
      if(readable == 0)
        {
         if(!SocketIsConnected(g_socket)) Disconnect("the platform closed the connection");
         return;
        }
      uchar buf[];
      int n = SocketRead(g_socket, buf, MathMin(readable, (uint)MAX_LINE), 10);
      if(n <= 0) { Disconnect("read failed, error " + IntegerToString(GetLastError())); return; }
      g_last_recv_ms = GetTickCount64();
      g_inbuf += CharArrayToString(buf, 0, n, CP_UTF8);
      int nl;
      while(g_socket != INVALID_HANDLE && (nl = StringFind(g_inbuf, "\n")) >= 0)
        {
         string line = StringSubstr(g_inbuf, 0, nl);
         g_inbuf = StringSubstr(g_inbuf, nl + 1);
         if(StringLen(line) > 0 && StringGetCharacter(line, StringLen(line) - 1) == '\r') line = StringSubstr(line, 0, StringLen(line) - 1);
         if(nl + 1 > MAX_LINE) { Disconnect("line longer than 64 KiB from the platform"); return; }
         OnLine(line);
        }
      if(StringLen(g_inbuf) >= MAX_LINE) { Disconnect("line longer than 64 KiB from the platform"); return; }
     }
  }

//+------------------------------------------------------------------+
//| market data                                                      |
//+------------------------------------------------------------------+
// Lossless ticks: everything from the last msc sent, skipping those already sent at it.
void SendTicks(int i)
  {
   MqlTick ticks[];
   int n = CopyTicksRange(g_sym[i], ticks, COPY_TICKS_ALL, (ulong)g_tick_msc[i], 0);
   if(n <= 0) return;
   int skip = 0, sent = 0;
   int d = Digits(g_sym[i]);
   for(int k = 0; k < n && sent < InpMaxTicksPerPoll && g_ready; k++)
     {
      if(ticks[k].time_msc == g_tick_msc[i] && skip < g_ticks_at_msc[i]) { skip++; continue; }
      uint f = ticks[k].flags;
      string body = "\"symbol\":" + Q(g_sym[i]) + ",\"time_msc\":" + IntegerToString(ticks[k].time_msc - g_offset_s * 1000) +
                    ",\"bid\":" + (ticks[k].bid > 0 ? Num(ticks[k].bid, d) : "null") +
                    ",\"ask\":" + (ticks[k].ask > 0 ? Num(ticks[k].ask, d) : "null") +
                    ",\"last\":" + (ticks[k].last > 0 ? Num(ticks[k].last, d) : "null") +
                    ",\"volume\":" + Num(ticks[k].volume_real, 8) + ",\"flags\":" + IntegerToString(f);
      if(!Send("tick", body)) return;
      sent++;
      if(ticks[k].time_msc == g_tick_msc[i]) g_ticks_at_msc[i]++;
      else { g_tick_msc[i] = ticks[k].time_msc; g_ticks_at_msc[i] = 1; }
     }
  }

// Closed M1 bars after the last one sent (the forming bar is never sent).
void SendBars(int i)
  {
   datetime forming = iTime(g_sym[i], PERIOD_M1, 0);
   if(forming == 0 || (long)forming <= g_bar_time[i] + 60) return;
   MqlRates rates[];
   int n = CopyRates(g_sym[i], PERIOD_M1, (datetime)(g_bar_time[i] + 60), forming - 60, rates);
   int d = Digits(g_sym[i]);
   for(int k = 0; k < n && g_ready; k++)
     {
      if((long)rates[k].time <= g_bar_time[i] || rates[k].time >= forming) continue;
      string body = "\"symbol\":" + Q(g_sym[i]) + ",\"time\":" + IntegerToString((long)rates[k].time - g_offset_s) +
                    ",\"open\":" + Num(rates[k].open, d) + ",\"high\":" + Num(rates[k].high, d) + ",\"low\":" +
                    Num(rates[k].low, d) + ",\"close\":" + Num(rates[k].close, d) + ",\"tick_volume\":" +
                    IntegerToString(rates[k].tick_volume) + ",\"volume\":" + IntegerToString(rates[k].real_volume) +
                    ",\"spread\":" + IntegerToString(rates[k].spread);
      if(!Send("bar", body)) return;
      g_bar_time[i] = (long)rates[k].time;
     }
  }

void SendBook(int i)
  {
   MqlBookInfo book[];
   if(!MarketBookGet(g_sym[i], book)) return;
   int d = Digits(g_sym[i]);
   string bids = "", asks = "";
   // MT5 lists the book from the highest price down: sells (asks) first, then buys (bids).
   for(int k = ArraySize(book) - 1; k >= 0; k--)
      if(book[k].type == BOOK_TYPE_SELL || book[k].type == BOOK_TYPE_SELL_MARKET)
         asks += (asks == "" ? "" : ",") + "[" + Num(book[k].price, d) + "," + Num(book[k].volume_real, 8) + "]";
   for(int k = 0; k < ArraySize(book); k++)
      if(book[k].type == BOOK_TYPE_BUY || book[k].type == BOOK_TYPE_BUY_MARKET)
         bids += (bids == "" ? "" : ",") + "[" + Num(book[k].price, d) + "," + Num(book[k].volume_real, 8) + "]";
   long msc = (long)TimeTradeServer() * 1000 + (long)(GetTickCount64() % 1000) - g_offset_s * 1000;
   if(Send("book", "\"symbol\":" + Q(g_sym[i]) + ",\"time_msc\":" + IntegerToString(msc) + ",\"bids\":[" + bids +
               "],\"asks\":[" + asks + "]"))
     {
      g_book_sent_ms[i] = GetTickCount64();
      g_book_dirty[i] = false;
     }
  }

//+------------------------------------------------------------------+
//| events                                                           |
//+------------------------------------------------------------------+
int OnInit()
  {
   string parts[];
   int n = StringSplit(InpSymbols, ',', parts);
   ArrayResize(g_sym, 0);
   for(int i = 0; i < n; i++)
     {
      string s = parts[i];
      StringTrimLeft(s);
      StringTrimRight(s);
      if(s == "") continue;
      if(!SymbolSelect(s, true)) { PrintFormat("QuantBridge: symbol %s is not available", s); return INIT_PARAMETERS_INCORRECT; }
      int k = ArraySize(g_sym);
      ArrayResize(g_sym, k + 1);
      g_sym[k] = s;
     }
   int m = ArraySize(g_sym);
   if(m == 0) return INIT_PARAMETERS_INCORRECT;
   ArrayResize(g_tick_msc, m); ArrayResize(g_ticks_at_msc, m); ArrayResize(g_bar_time, m);
   ArrayResize(g_book_sent_ms, m); ArrayResize(g_book_dirty, m);
   for(int i = 0; i < m; i++)
     {
      g_tick_msc[i] = 0; g_ticks_at_msc[i] = 0; g_bar_time[i] = 0; g_book_sent_ms[i] = 0; g_book_dirty[i] = false;
      if(!MarketBookAdd(g_sym[i])) PrintFormat("QuantBridge: no market depth for %s (book messages off)", g_sym[i]);
     }
   g_backoff_ms = 0;
   g_next_connect_ms = 0;
   EventSetMillisecondTimer(50);
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   EventKillTimer();
   for(int i = 0; i < ArraySize(g_sym); i++) MarketBookRelease(g_sym[i]);
   if(g_socket != INVALID_HANDLE) SocketClose(g_socket);
   g_socket = INVALID_HANDLE;
  }

void OnTimer()
  {
   if(g_socket == INVALID_HANDLE) { Connect(); return; }
   ReadLines();
   if(g_socket == INVALID_HANDLE) return;
   if(GetTickCount64() - g_last_recv_ms > (ulong)InpPeerTimeoutMs) { Disconnect("the platform is silent"); return; }
   if(g_ready)
     {
      FlushQueue();
      for(int i = 0; i < ArraySize(g_sym) && g_ready; i++)
        {
         SendTicks(i);
         SendBars(i);
         if(g_book_dirty[i] && GetTickCount64() - g_book_sent_ms[i] >= BOOK_MIN_INTERVAL_MS) SendBook(i);
        }
     }
   if(g_socket != INVALID_HANDLE && GetTickCount64() - g_last_sent_ms >= 1000) Send("hb", "\"mark\":\"\"");
  }

void OnBookEvent(const string &symbol)
  {
   int i = SymIndex(symbol);
   if(i < 0) return;
   g_book_dirty[i] = true;
   if(g_ready && GetTickCount64() - g_book_sent_ms[i] >= BOOK_MIN_INTERVAL_MS) SendBook(i);
  }

string OrderComment(ulong order)
  {
   if(OrderSelect(order)) return OrderGetString(ORDER_COMMENT);
   if(HistoryOrderSelect(order)) return HistoryOrderGetString(order, ORDER_COMMENT);
   return "";
  }

//--- `cl` traded: remove its one-cancels-other partner, if it still works (the platform's
//--- book cancels it too, but a bar touching both must not fill both in between).
void CancelOcoPartner(string cl, string sym)
  {
   for(int k = ArraySize(g_oco_a) - 1; k >= 0; k--)
     {
      string partner = "";
      if(g_oco_a[k] == cl) partner = g_oco_b[k];
      else if(g_oco_b[k] == cl) partner = g_oco_a[k];
      if(partner == "") continue;
      int last = ArraySize(g_oco_a) - 1;
      g_oco_a[k] = g_oco_a[last]; g_oco_b[k] = g_oco_b[last];
      ArrayResize(g_oco_a, last); ArrayResize(g_oco_b, last);
      ulong ticket = TicketOf(partner);
      if(ticket == 0) continue;
      MqlTradeRequest req;
      MqlTradeResult res;
      ZeroMemory(req);
      ZeroMemory(res);
      req.action = TRADE_ACTION_REMOVE;
      req.order = ticket;
      if(OrderSendAsync(req, res)) Remember(res.request_id, partner, "cancel", sym, 0);
     }
  }

void OnTradeTransaction(const MqlTradeTransaction &trans, const MqlTradeRequest &request, const MqlTradeResult &result)
  {
   if(trans.type == TRADE_TRANSACTION_REQUEST)
     {
      for(int k = 0; k < ArraySize(g_req_id); k++)
        {
         if(g_req_id[k] != result.request_id) continue;
         string cl = g_req_cl[k], kind = g_req_kind[k], sym = g_req_symbol[k];
         string ticket = IntegerToString((long)(result.order > 0 ? result.order : request.order));
         bool ok = result.retcode == TRADE_RETCODE_PLACED || result.retcode == TRADE_RETCODE_DONE ||
                   result.retcode == TRADE_RETCODE_DONE_PARTIAL;
         if(kind == "new") SendAck(cl, sym, ok ? ticket : "", ok ? "new" : "rejected", ok ? "new" : "rejected", ok ? "" : Retcode(result.retcode, result.comment), 0);
         else if(kind == "cancel") SendAck(cl, sym, ticket, ok ? "canceled" : "rejected", ok ? "canceled" : "new", ok ? "" : Retcode(result.retcode, result.comment), 0);
         else SendAck(cl, sym, ticket, ok ? "replaced" : "rejected", ok ? "replaced" : "new", ok ? "" : Retcode(result.retcode, result.comment), g_req_stop[k]);
         int last = ArraySize(g_req_id) - 1;  // remove k (order does not matter)
         g_req_id[k] = g_req_id[last]; g_req_cl[k] = g_req_cl[last]; g_req_kind[k] = g_req_kind[last];
         g_req_symbol[k] = g_req_symbol[last]; g_req_stop[k] = g_req_stop[last];
         ArrayResize(g_req_id, last); ArrayResize(g_req_cl, last); ArrayResize(g_req_kind, last);
         ArrayResize(g_req_symbol, last); ArrayResize(g_req_stop, last);
         break;
        }
      return;
     }
   if(trans.type == TRADE_TRANSACTION_ORDER_DELETE && trans.order_state == ORDER_STATE_EXPIRED)
     {
      string cl = OrderComment(trans.order);
      if(cl != "") SendAck(cl, trans.symbol, IntegerToString((long)trans.order), "expired", "expired", "", 0);
      return;
     }
   if(trans.type != TRADE_TRANSACTION_DEAL_ADD) return;
   if(!HistoryDealSelect(trans.deal)) return;
   ulong deal = trans.deal;
   ulong order = (ulong)HistoryDealGetInteger(deal, DEAL_ORDER);
   string sym = HistoryDealGetString(deal, DEAL_SYMBOL);
   long dtype = HistoryDealGetInteger(deal, DEAL_TYPE);
   if(dtype != DEAL_TYPE_BUY && dtype != DEAL_TYPE_SELL) return;  // balance, commission ... rows
   double qty = HistoryDealGetDouble(deal, DEAL_VOLUME);
   double fee = -(HistoryDealGetDouble(deal, DEAL_COMMISSION) + HistoryDealGetDouble(deal, DEAL_FEE));
   string cl = OrderComment(order);
   double initial = 0, current = 0;
   if(OrderSelect(order)) { initial = OrderGetDouble(ORDER_VOLUME_INITIAL); current = OrderGetDouble(ORDER_VOLUME_CURRENT); }
   else if(HistoryOrderSelect(order)) { initial = HistoryOrderGetDouble(order, ORDER_VOLUME_INITIAL); current = HistoryOrderGetDouble(order, ORDER_VOLUME_CURRENT); }
   if(initial <= 0) initial = qty;
   long leaves = (long)current;
   string body = "\"cl_ord_id\":" + Q(cl) + ",\"exec_id\":" + Q(IntegerToString((long)deal)) + ",\"symbol\":" + Q(sym) +
                 ",\"side\":" + (dtype == DEAL_TYPE_BUY ? "\"buy\"" : "\"sell\"") + ",\"qty\":" + IntegerToString((long)qty) +
                 ",\"price\":" + Num(HistoryDealGetDouble(deal, DEAL_PRICE), Digits(sym)) + ",\"fee\":" + Num(fee, 2) +
                 ",\"time_msc\":" + IntegerToString(HistoryDealGetInteger(deal, DEAL_TIME_MSC) - g_offset_s * 1000) +
                 ",\"cum_qty\":" + IntegerToString((long)(initial - current)) + ",\"leaves_qty\":" + IntegerToString(leaves) +
                 ",\"ord_status\":" + (leaves == 0 ? "\"filled\"" : "\"partially_filled\"");
   SendReport("fill", body);
   if(cl != "") CancelOcoPartner(cl, sym);
  }
//+------------------------------------------------------------------+
